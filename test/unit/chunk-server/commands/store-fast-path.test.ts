// The small-request path: grouped directory fsyncs, opt-out fsync.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { resolveConfig } from '../../../../src/config/chunk-server.js';
import { DirSyncer } from '../../../../src/storage/index.js';
import { charge } from '../../../../src/storage/index.js';
import { bytes } from '../../../support/data.js';
import { call } from '../../../support/frames.js';
import { startServer } from '../../../support/in-process.js';

/** A directory stand-in whose fsyncs finish when the test says so. */
class ManualSync {
  started = 0;
  private pending: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  sync(): Promise<void> {
    this.started++;
    return new Promise((resolve, reject) => this.pending.push({ resolve, reject }));
  }
  get inFlight(): number {
    return this.pending.length;
  }
  finish(err?: Error): void {
    const p = this.pending.shift()!;
    if (err) p.reject(err);
    else p.resolve();
  }
}

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

t.test('directory fsyncs: callers during one share the next, never the one already running', async (t) => {
  const dir = new ManualSync();
  const syncer = new DirSyncer(dir);
  const done: string[] = [];
  const first = syncer.sync().then(() => done.push('first'));
  const waiting = ['a', 'b', 'c'].map((n) => syncer.sync().then(() => done.push(n)));
  t.equal(dir.started, 1, 'one fsync while the first runs');
  dir.finish();
  await first;
  await flush();
  t.same(done, ['first'], 'later callers are not released by an fsync that started before them');
  t.equal(dir.started, 2, 'one shared fsync for the three that waited');
  const late = syncer.sync().then(() => done.push('late'));
  dir.finish();
  await Promise.all(waiting);
  await flush();
  t.same(done, ['first', 'a', 'b', 'c']);
  t.equal(dir.started, 3, 'a caller during the shared one gets its own next');
  dir.finish();
  await late;
  t.equal(dir.inFlight, 0);
});

t.test('a failed directory fsync fails its callers and the next one still runs', async (t) => {
  const dir = new ManualSync();
  const syncer = new DirSyncer(dir);
  const first = syncer.sync();
  const second = syncer.sync();
  dir.finish(new Error('EIO'));
  await t.rejects(first, { message: 'EIO' });
  await flush();
  t.equal(dir.started, 2);
  dir.finish();
  await second;
  const third = syncer.sync();
  t.equal(dir.started, 3, 'idle again: a new caller starts at once');
  dir.finish();
  await third;
});

t.test('fsync = false is opt-in and still stores and serves chunks', async (t) => {
  t.equal(resolveConfig({}, {}).fsync, true);
  t.equal(resolveConfig({ chunk_server: { fsync: false } }, {}).fsync, false);
  t.throws(() => resolveConfig({ chunk_server: { fsync: 'no' } }, {}), { message: '[chunk_server] fsync must be true or false' });
  const server = await startServer(t, { fsync: false, streamThresholdMb: 1 / 16 });
  for (const size of [100, 200_000]) {
    const data = bytes(size, size);
    t.match(await call(server.port, { command: 'store_chunk', chunk_id: `n${size}`, data }), { status: 'ok', chunk_id: `n${size}`, replicas: 0 });
    t.ok(Buffer.from((await call(server.port, { command: 'retrieve_chunk', chunk_id: `n${size}` })).data).equals(data));
  }
  t.same(await call(server.port, { command: 'delete_chunk', chunk_id: 'n100' }), { status: 'ok' });
  t.equal(server.store.space.used, charge(200_000));
});
