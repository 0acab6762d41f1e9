import t from 'tap';
import { call } from '../../support/frames.js';
import { spawnServer } from '../../support/processes.js';
import { tempDir } from '../../support/temp.js';
import { ARGS, crashCases, dies, INSIDE, OLD, overwritten, retrieve, start, stop } from '../../support/crash-points.js';

// Overwrites through the redo log, prepare, commit, delete, and redo replay (test/support/crash-points.ts).
crashCases(t, (c) => !c.point.startsWith('store.') && !c.point.startsWith('append.'));

t.test('kill -9 while replaying a redo record, then a clean start, finishes the overwrite', async (t) => {
  const dir = await tempDir(t);
  const first = await start(t, dir);
  await call(first.port, { command: 'store_chunk', chunk_id: 'c', data: OLD });
  await call(first.port, { command: 'prepare_append', chunk_id: 'c', transaction_id: 'tx', offset: 64_000, data: INSIDE });
  await stop(first);
  const armed = await start(t, dir, 'redo.logged');
  await dies(t, armed, { command: 'commit_append', chunk_id: 'c', transaction_id: 'tx' });
  process.env.CHUNKSERVER_CRASH_AT = 'replay.written';
  const replaying = await spawnServer(t, ARGS, dir).then(
    () => null,
    (err: Error) => err,
  );
  delete process.env.CHUNKSERVER_CRASH_AT;
  t.ok(replaying, 'the server died while replaying');
  const again = await start(t, dir);
  t.ok((await retrieve(again.port, 'c')).data?.equals(overwritten), 'the overwrite is whole after the second start');
  await stop(again);
});

