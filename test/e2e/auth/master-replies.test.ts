// A chunk server of a secured cluster takes nothing from a "master" that cannot prove it is
// one: heartbeat replies carry the instruction channel (delete, copy).
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { waitFor, writeToml } from '../../support/cluster-helpers.js';
import { frame, spawnServer, tempDir } from '../../support/helpers.js';

/** Answers every frame it gets with `reply`, unsigned; counts the frames. */
async function fakeMaster(t: Test, reply: Record<string, unknown>): Promise<{ port: number; frames: () => number }> {
  let frames = 0;
  const server = createServer({ allowHalfOpen: true }, (socket: Socket) => {
    socket.on('error', () => undefined);
    socket.on('data', () => {
      frames++;
      socket.end(frame(reply));
    });
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  t.teardown(() => new Promise<void>((res) => server.close(() => res())));
  const a = server.address();
  return { port: typeof a === 'object' && a ? a.port : 0, frames: () => frames };
}

t.test('unsigned replies of a fake master are refused, its instructions never run', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'cluster.key'), randomBytes(32).toString('hex'));
  const config = await writeToml(dir, 'c.toml', `[chunk_server]\nheartbeat_interval = 0.2\n[security]\ncluster_key_file = "cluster.key"\n`);
  const fake = await fakeMaster(t, { status: 'ok', instructions: [{ op: 'delete', chunk_id: 'keep' }] });
  const s = await spawnServer(t, ['--config', config, '--server_id', 's', '--data_dir', 'data', '--master', `127.0.0.1:${fake.port}`], dir);
  await waitFor('a refused reply in the log', async () => (/reply carries no proof of the master/.test(s.stdout()) ? true : undefined));
  t.match(s.stdout(), /master unreachable; serving without it and retrying/);
  t.notMatch(s.stdout(), /registered with master/, 'the fake master does not count as a master');
  t.ok(fake.frames() >= 1);
});
