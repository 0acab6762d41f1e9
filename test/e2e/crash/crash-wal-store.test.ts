import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { bytes } from '../../support/data.js';
import { call, Client } from '../../support/frames.js';
import { tempDir } from '../../support/temp.js';
import { dies, OLD, retrieve, start, stop } from '../../support/crash-points.js';

// Small stores through the write-ahead log (issue 22 item 1), killed at each of their steps:
// before the log is flushed (not acknowledged: the old version or none, never a mix), after
// the flush (acknowledged from here on: present after restart, replay writes the file),
// after the file is renamed into place but before any record is committed, and in a
// checkpoint. OLD (70,000 bytes) is above wal_store_max_kb and is stored the flushed way.
const SMALL = bytes(30_000, 21);
const chunkDir = (dir: string): string => join(dir, 'data', 'cp');

const steps: Array<{ point: string; acknowledged: boolean }> = [
  { point: 'store.log-queued', acknowledged: false },
  { point: 'wal.written', acknowledged: false },
  { point: 'wal.synced', acknowledged: true },
  { point: 'store.logged', acknowledged: true },
  { point: 'store.installed', acknowledged: true },
];

for (const { point, acknowledged } of steps) {
  t.test(`kill -9 at ${point}: a small store over a chunk`, async (t) => {
    const dir = await tempDir(t);
    const first = await start(t, dir);
    t.match(await call(first.port, { command: 'store_chunk', chunk_id: 'c', data: OLD }), { status: 'ok', version: 1 });
    await stop(first);
    const armed = await start(t, dir, point);
    await dies(t, armed, { command: 'store_chunk', chunk_id: 'c', data: SMALL });
    const again = await start(t, dir);
    const got = await retrieve(again.port, 'c');
    const isNew = got.data?.equals(SMALL) ?? false;
    t.ok(isNew || got.data?.equals(OLD), 'the old version or the new one, whole');
    if (acknowledged) t.ok(isNew, 'the store, durable in the log, is there');
    t.equal(got.version, isNew ? 2 : 1, 'and its version');
    t.equal((await stat(join(chunkDir(dir), 'c'))).size, got.data?.length, 'the file holds exactly the committed bytes');
    const left = (await readdir(chunkDir(dir))).filter((n) => n !== '.meta');
    t.same(left, ['c'], 'no temp file is left');
    await stop(again);
  });

  t.test(`kill -9 at ${point}: a small store of a new chunk`, async (t) => {
    const dir = await tempDir(t);
    const armed = await start(t, dir, point);
    await dies(t, armed, { command: 'store_chunk', chunk_id: 'n', data: SMALL });
    const again = await start(t, dir);
    const got = await retrieve(again.port, 'n');
    t.ok(got.data === null || got.data.equals(SMALL), 'absent, or the new chunk whole');
    if (acknowledged) t.ok(got.data?.equals(SMALL), 'the store, durable in the log, is there');
    await stop(again);
  });
}

t.test('acknowledged small stores and appends after them, killed before any checkpoint: replay maps the new files', async (t) => {
  const dir = await tempDir(t);
  const first = await start(t, dir);
  const want = new Map<string, Buffer>();
  for (let i = 0; i < 3; i++) {
    const id = `s${i}`;
    const data = bytes(10_000 + i, 30 + i);
    t.match(await call(first.port, { command: 'store_chunk', chunk_id: id, data }), { status: 'ok', version: 1 });
    const extra = bytes(3_000, 40 + i);
    t.match(await call(first.port, { command: 'append_chunk', chunk_id: id, data: extra }), { status: 'ok' });
    // A second store over the first, then another append: a chain of identities in the log.
    const again = bytes(7_000, 50 + i);
    t.match(await call(first.port, { command: 'store_chunk', chunk_id: id, data: again }), { status: 'ok', version: 3 });
    const tail = bytes(2_000, 60 + i);
    t.match(await call(first.port, { command: 'append_chunk', chunk_id: id, data: tail }), { status: 'ok', version: 4 });
    want.set(id, Buffer.concat([again, tail]));
  }
  await stop(first);
  for (const restart of [1, 2]) {
    const s = await start(t, dir);
    for (const [id, data] of want) {
      const got = await retrieve(s.port, id);
      t.ok(got.data?.equals(data), `restart ${restart}: ${id} holds its last store and the append after it`);
      t.equal(got.version, 4, `restart ${restart}: ${id} at version 4`);
    }
    await stop(s);
  }
});

t.test('kill -9 at wal.checkpoint-synced with small stores in the log: every acknowledged store present', async (t) => {
  const dir = await tempDir(t);
  const armed = await start(t, dir, 'wal.checkpoint-synced');
  const c = await Client.connect(armed.port, t);
  const data = (i: number): Buffer => bytes(20_000, 100 + (i % 100));
  let acked = 0;
  let sent = 0;
  for (; sent < 400; ) {
    c.send({ command: 'store_chunk', chunk_id: `k${sent}`, data: data(sent) });
    sent++;
    const r = await c.next();
    if (!r) break;
    t.equal(r.status, 'ok');
    acked++;
  }
  t.equal(await armed.exited, 'SIGKILL', 'died in a checkpoint');
  c.close();
  t.ok(acked > 8, `${acked} stores acknowledged before the checkpoint died`);
  const again = await start(t, dir);
  for (let i = 0; i < acked; i++) {
    const got = await retrieve(again.port, `k${i}`);
    if (!got.data?.equals(data(i))) t.fail(`k${i} missing or wrong`);
  }
  const inFlight = await retrieve(again.port, `k${acked}`);
  t.ok(inFlight.data === null || inFlight.data.equals(data(acked)), 'the store in flight whole or absent');
  await stop(again);
});

t.test('a chunk deleted while its small store is in the log only stays deleted after kill -9', async (t) => {
  const dir = await tempDir(t);
  const first = await start(t, dir);
  t.match(await call(first.port, { command: 'store_chunk', chunk_id: 'gone', data: SMALL }), { status: 'ok', version: 1 });
  t.match(await call(first.port, { command: 'delete_chunk', chunk_id: 'gone' }), { status: 'ok' });
  // Stored again and deleted again, then a new store: replay must end where the server was.
  t.match(await call(first.port, { command: 'store_chunk', chunk_id: 'back', data: SMALL }), { status: 'ok' });
  t.match(await call(first.port, { command: 'delete_chunk', chunk_id: 'back' }), { status: 'ok' });
  t.match(await call(first.port, { command: 'store_chunk', chunk_id: 'back', data: OLD.subarray(0, 9_000) }), { status: 'ok' });
  await stop(first);
  const again = await start(t, dir);
  t.equal((await retrieve(again.port, 'gone')).data, null, 'the deleted chunk is not brought back by replay');
  t.ok((await retrieve(again.port, 'back')).data?.equals(OLD.subarray(0, 9_000)), 'the chunk stored after its delete holds the last store');
  await stop(again);
});
