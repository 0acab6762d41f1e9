// The digest a reader computes from the bytes it received is the one a chunk server computes
// from the block sums it keeps (PROTOCOL.md, "Reads are checked"), for any split of the bytes.
import t from 'tap';
import { BLOCK_BYTES, SumsBuilder } from '../../../src/storage/checksums/block-sums.js';
import { ChunkDigester, digestOf } from '../../../src/wire/chunk-digest.js';
import { bytes } from '../../support/data.js';


for (const size of [0, 1, BLOCK_BYTES - 1, BLOCK_BYTES, BLOCK_BYTES + 1, 3 * BLOCK_BYTES + 12_345]) {
  t.test(`${size} bytes`, async (t) => {
    const data = bytes(size, size + 1);
    const sums = new SumsBuilder();
    sums.update(data);
    const stored = digestOf(size, sums.finish());
    for (const piece of [size || 1, 1000, 7]) {
      const d = new ChunkDigester();
      for (let at = 0; at < size; at += piece) d.update(data.subarray(at, at + piece));
      t.same(d.result(), { length: size, digest: stored }, `in pieces of ${piece}`);
    }
    if (size > 0) {
      const d = new ChunkDigester();
      const bad = Buffer.from(data);
      bad[size - 1]! ^= 1;
      d.update(bad);
      t.not(d.result().digest, stored, 'one flipped bit changes it');
    }
  });
}
