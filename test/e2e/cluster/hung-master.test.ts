// Issue 14, item 8: a corrupt chunk counts as reported only once the master's reply to the
// heartbeat that listed it came back. A master that takes heartbeats and never answers
// gets the report again with every heartbeat; once one is answered, it stops.
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { chunkToml, writeToml } from '../../support/configs.js';
import { bytes, flipByte } from '../../support/data.js';
import { call } from '../../support/frames.js';
import { spawnServer } from '../../support/processes.js';
import { scriptedPeer } from '../../support/scripted-peer.js';
import { tempDir } from '../../support/temp.js';
import { waitFor } from '../../support/waits.js';

type Mode = 'silent' | 'answer';

/** A master that records every heartbeat and, in `silent` mode, neither answers nor closes. */
async function fakeMaster(t: Test): Promise<{ port: number; beats: Array<Record<string, unknown>>; mode: { value: Mode } }> {
  const beats: Array<Record<string, unknown>> = [];
  const mode = { value: 'silent' as Mode };
  const peer = await scriptedPeer(t, (msg) => {
    if (msg.command === 'heartbeat') beats.push({ ...msg, answered: mode.value === 'answer' });
    return mode.value === 'answer' ? { status: 'ok' } : undefined;
  });
  return { port: peer.port, beats, mode };
}

t.test('a master that never answers does not swallow a corrupt-chunk report', async (t) => {
  const dir = await tempDir(t);
  const master = await fakeMaster(t);
  const config = await writeToml(dir, 'c.toml', chunkToml({ masterTimeoutS: 0.5 }));
  const s = await spawnServer(t, ['--config', config, '--server_id', 's', '--data_dir', 'data', '--master', `127.0.0.1:${master.port}`], dir);
  t.match(await call(s.port, { command: 'store_chunk', chunk_id: 'c1', data: bytes(200_000, 2), replica_servers: true }), { status: 'ok' });
  await flipByte(join(dir, 'data', 's', 'c1'), 1234);
  t.same(await call(s.port, { command: 'retrieve_chunk', chunk_id: 'c1' }), { status: 'error', message: 'corrupt_chunk' });

  const listing = (): Array<Record<string, unknown>> => master.beats.filter((b) => Array.isArray(b.corrupt_chunks) && (b.corrupt_chunks as string[]).includes('c1'));
  await waitFor('three unanswered heartbeats that list c1', async () => (listing().length >= 3 ? true : undefined), 30_000, 100);
  t.pass('the report is repeated while the master does not answer');

  master.mode.value = 'answer';
  await waitFor('an answered heartbeat listing c1', async () => (listing().some((b) => b.answered) ? true : undefined), 30_000, 100);
  const answeredAt = master.beats.length;
  await waitFor('two more heartbeats', async () => (master.beats.length >= answeredAt + 2 ? true : undefined), 30_000, 100);
  t.same(
    master.beats.slice(answeredAt).filter((b) => b.corrupt_chunks !== undefined),
    [],
    'after an answered report, c1 is no longer sent',
  );
});
