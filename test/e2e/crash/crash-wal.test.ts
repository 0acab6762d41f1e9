import t from 'tap';
import { bytes } from '../../support/data.js';
import { call, Client } from '../../support/frames.js';
import { runCli } from '../../support/processes.js';
import { tempDir } from '../../support/temp.js';
import { ARGS, OLD, retrieve, start, stop } from '../../support/crash-points.js';

// The write-ahead log's own steps (src/storage/wal/): a checkpoint killed half-way, and a
// start-up killed while replaying. Appends of 5,000 bytes fill a 128 KiB log file after
// ~25, which starts a checkpoint while appends go on into the other file.
const record = (i: number): Buffer => bytes(5_000, 100 + i);

for (const point of ['wal.checkpoint-synced', 'wal.checkpointed']) {
  t.test(`kill -9 at ${point} (mid-checkpoint): every acknowledged append present`, async (t) => {
    const dir = await tempDir(t);
    const first = await start(t, dir);
    t.match(await call(first.port, { command: 'store_chunk', chunk_id: 'c', data: OLD }), { status: 'ok' });
    await stop(first);
    const armed = await start(t, dir, point);
    const c = await Client.connect(armed.port, t);
    let acked = 0;
    let sent = 0;
    for (; sent < 200; ) {
      c.send({ command: 'append_chunk', chunk_id: 'c', data: record(sent) });
      sent++;
      const r = await c.next();
      if (!r) break;
      t.equal(r.status, 'ok');
      acked++;
    }
    t.equal(await armed.exited, 'SIGKILL', 'died in the checkpoint');
    c.close();
    const again = await start(t, dir);
    const got = (await retrieve(again.port, 'c')).data!;
    const withAcked = Buffer.concat([OLD, ...Array.from({ length: acked }, (_, i) => record(i))]);
    const withAll = Buffer.concat([withAcked, ...Array.from({ length: sent - acked }, (_, i) => record(acked + i))]);
    t.ok(acked > 20, `${acked} appends acknowledged before the checkpoint died`);
    t.ok(got.equals(withAcked) || got.equals(withAll), 'the acknowledged appends, whole, and the one in flight whole or absent');
    await stop(again);
  });
}

t.test('kill -9 at replay.wal-applied (mid-replay), then a clean start: every acknowledged append present', async (t) => {
  const dir = await tempDir(t);
  const first = await start(t, dir);
  t.match(await call(first.port, { command: 'store_chunk', chunk_id: 'c', data: OLD }), { status: 'ok' });
  for (let i = 0; i < 10; i++) t.match(await call(first.port, { command: 'append_chunk', chunk_id: 'c', data: record(i) }), { status: 'ok' });
  // Killed: no checkpoint ran, the records are in the log only.
  await stop(first);
  process.env.CHUNKSERVER_CRASH_AT = 'replay.wal-applied';
  const dead = await runCli(ARGS, dir).finally(() => delete process.env.CHUNKSERVER_CRASH_AT);
  t.equal(dead.code, null, 'start-up died in the replay');
  const again = await start(t, dir);
  const want = Buffer.concat([OLD, ...Array.from({ length: 10 }, (_, i) => record(i))]);
  const got = await retrieve(again.port, 'c');
  t.ok(got.data?.equals(want), 'all 10 acknowledged appends present');
  t.equal(got.version, 11, 'and their versions');
  await stop(again);
});
