// The library as the console and the benchmark use it: streams in and out, progress
// callbacks, GfsError codes.
import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import t from 'tap';
import { GfsClient, GfsError } from '../../../src/client/index.js';
import { startCluster } from '../../support/cluster.js';
import { bytes } from '../../support/data.js';

/** A sink that keeps only a hash and a count, as a 10 GiB download would need. */
class HashSink extends Writable {
  readonly hash = createHash('sha256');
  bytes = 0;
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    cb();
  }
}

t.test('GfsClient', async (t) => {
  const c = await startCluster(t);
  const client = new GfsClient({ master: c.master.address, chunkSize: 100_000, concurrency: 3 });
  t.teardown(() => client.close());
  const data = bytes(1_050_000, 41);

  t.test('put from a stream, get into a stream, with progress', async (t) => {
    const seen: Array<[number, number | undefined]> = [];
    // Pieces of odd sizes, so chunk boundaries fall inside them.
    const source = Readable.from((function* () {
      for (let i = 0; i < data.length; i += 77_777) yield data.subarray(i, i + 77_777);
    })());
    const put = await client.put(source, '/lib/stream.bin', { onProgress: (d, total) => seen.push([d, total]) });
    t.same(put, { size: data.length, chunks: 11, copies: Array(11).fill(3), factor: 3 }, 'every chunk with the factor of copies');
    t.ok(seen.length > 0 && seen.every(([, total]) => total === undefined), 'a stream has no known total');
    t.equal(seen.at(-1)![0], data.length, 'progress ends at the whole size');

    const got: Array<[number, number | undefined]> = [];
    const sink = new HashSink();
    t.equal(await client.get('/lib/stream.bin', sink, { onProgress: (d, total) => got.push([d, total]) }), data.length);
    t.equal(sink.hash.digest('hex'), createHash('sha256').update(data).digest('hex'), 'the same bytes, in order');
    t.ok(got.every(([, total]) => total === data.length), 'a download knows its total');
    t.equal(got.at(-1)![0], data.length);
  });

  t.test('put of a Buffer, append of a Buffer, list and stat', async (t) => {
    await client.put(data.subarray(0, 150_000), '/lib/buf.bin');
    t.same(await client.append('/lib/buf.bin', data.subarray(150_000, 260_000)), { appended: 110_000, offset: 150_000, copies: 3, chunks: [{ index: 1, copies: 3 }, { index: 2, copies: 3 }], factor: 3 }, 'bytes appended, where, on how many holders per chunk written (three servers, factor 3)');
    const sink = new HashSink();
    await client.get('/lib/buf.bin', sink);
    t.equal(sink.hash.digest('hex'), createHash('sha256').update(data.subarray(0, 260_000)).digest('hex'));
    const s = await client.stat('/lib/buf.bin');
    t.same(s.chunks.map((ch) => ch.size), [100_000, 100_000, 60_000], 'the last chunk filled, then a new one');
    t.same((await client.list('/lib/')).files.map((f) => f.path), ['/lib/buf.bin', '/lib/stream.bin']);
  });

  t.test('errors carry stable codes', async (t) => {
    const code = async (p: Promise<unknown>): Promise<string> => p.then(() => 'no error', (e: unknown) => (e instanceof GfsError ? e.code : `not a GfsError: ${String(e)}`));
    t.equal(await code(client.get('/lib/none', new HashSink())), 'file_not_found');
    t.equal(await code(client.stat('/lib/none')), 'file_not_found');
    t.equal(await code(client.put(data, '/lib/buf.bin')), 'file_exists');
    t.equal(await code(client.put('/no/such/local/file', '/lib/x')), 'local_io');
    t.equal(await code(client.decommission('nonsense')), 'bad_input');
    t.throws(() => new GfsClient({ master: 'no-port' }), { code: 'bad_input' });
    t.throws(() => new GfsClient({ master: 'h:1', chunkSize: 0 }), { code: 'bad_input' });
    const broken = new Writable({ write: (_c, _e, cb) => cb(new Error('disk on fire')) });
    t.equal(await code(client.get('/lib/buf.bin', broken)), 'local_io');
  });
});
