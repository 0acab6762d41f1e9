// Issue 14, item 5: a frame header that announces a large value holds no space; space is
// reserved as the value's bytes arrive, so other clients can still store.
import t from 'tap';
import { encodeBody } from '../../../src/wire/codec.js';
import { charge, largestFitting } from '../../../src/storage/index.js';
import { bytes, MIB } from '../../support/data.js';
import { call, Client } from '../../support/frames.js';
import { spawnServer } from '../../support/processes.js';
import { tempDir } from '../../support/temp.js';
import { waitFor } from '../../support/waits.js';

/** The first bytes of a store_chunk frame whose `data` is `size` bytes, up to the bin header. */
function storeHeader(chunkId: string, size: number): Buffer {
  const head = encodeBody({ command: 'store_chunk', chunk_id: chunkId });
  const map = Buffer.from([0x83]);
  const key = encodeBody('data');
  const bin = Buffer.alloc(5);
  bin[0] = 0xc6;
  bin.writeUInt32BE(size, 1);
  const body = Buffer.concat([map, head.subarray(1), key, bin]);
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32BE(body.length + size);
  return Buffer.concat([prefix, body]);
}

t.test('a 60 MiB announcement on a 64 MiB server leaves room for others', async (t) => {
  const dir = await tempDir(t);
  const server = await spawnServer(t, ['--data_dir', 'data', '--no_master', '--space', '64'], dir);
  const hogs: Client[] = [];
  for (let i = 0; i < 3; i++) {
    const hog = await Client.connect(server.port, t);
    hog.write(storeHeader(`hog${i}`, 60 * MIB));
    hogs.push(hog);
  }
  // Sent after the announcements on another connection; the server has read them by the
  // time it answers this (one event loop, headers first).
  t.same(await call(server.port, { command: 'check_space', size: 1 }), { status: 'ok' });
  t.match(await call(server.port, { command: 'store_chunk', chunk_id: 'real', data: bytes(10 * MIB, 3) }), { status: 'ok' }, 'a real store fits');
  // A hog that then sends its bytes is charged for them as they come: they no longer fit.
  hogs[0]!.write(Buffer.alloc(60 * MIB, 1));
  t.match(await hogs[0]!.next(), { status: 'error', message: 'insufficient_space' });
  for (const h of hogs) h.close();
  await waitFor('the hogs\' bytes released', async () => ((await call(server.port, { command: 'check_space', size: largestFitting(64 * MIB - charge(10 * MIB)) })).status === 'ok' ? true : undefined));
  t.pass('the refused bytes were released');
});
