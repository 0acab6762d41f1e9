// Issue 25 item 8: a read cache in the library. A second read of a file is served from it
// (the holders are gone), and it holds no more than its bound.
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import t from 'tap';
import { GfsClient } from '../../../src/client/index.js';
import { startCluster } from '../../support/cluster.js';
import { bytes } from '../../support/data.js';

class HashSink extends Writable {
  readonly hash = createHash('sha256');
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.hash.update(chunk);
    cb();
  }
}

t.test('the second read comes from the cache', async (t) => {
  const c = await startCluster(t, { servers: 1 });
  const writer = new GfsClient({ master: c.master.address, chunkSize: 100_000 });
  const data = bytes(250_000, 5);
  const other = bytes(250_000, 6);
  await writer.put(data, '/c/a.bin');
  await writer.put(other, '/c/b.bin');
  const client = new GfsClient({ master: c.master.address, cacheBytes: 300_000 });
  const read = async (path: string): Promise<string> => {
    const sink = new HashSink();
    await client.get(path, sink);
    return sink.hash.digest('hex');
  };
  const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
  t.equal(await read('/c/a.bin'), sha(data));
  t.match(client.cacheStats(), { hits: 0, misses: 3, entries: 3, bytes: 250_000 });
  t.equal(await read('/c/b.bin'), sha(other));
  t.ok(client.cacheStats()!.bytes <= 300_000, 'the bound holds');
  t.equal(await read('/c/b.bin'), sha(other));
  t.match(client.cacheStats(), { hits: 3 }, 'b read again from the cache');

  const s = c.servers[0]!;
  s.proc.kill('SIGTERM');
  await s.exited;
  t.equal(await read('/c/b.bin'), sha(other), 'with its only holder gone, b is still read: from the cache');
  await t.rejects(read('/c/a.bin'), { code: 'chunk_unavailable' }, 'a was dropped to keep the bound, and cannot be read');
  t.equal(new GfsClient({ master: c.master.address }).cacheStats(), null, 'no cache unless asked for');
});
