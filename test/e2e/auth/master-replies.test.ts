// A chunk server of a secured cluster takes nothing from a "master" that cannot prove it is
// one: heartbeat replies carry the instruction channel (delete, copy).
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { writeToml } from '../../support/configs.js';
import { spawnServer } from '../../support/processes.js';
import { scriptedPeer } from '../../support/scripted-peer.js';
import { tempDir } from '../../support/temp.js';
import { waitFor } from '../../support/waits.js';

t.test('unsigned replies of a fake master are refused, its instructions never run', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'cluster.key'), randomBytes(32).toString('hex'));
  const config = await writeToml(dir, 'c.toml', `[chunk_server]\nheartbeat_interval = 0.2\n[security]\ncluster_key_file = "cluster.key"\n`);
  const fake = await scriptedPeer(t, () => ({ status: 'ok', instructions: [{ op: 'delete', chunk_id: 'keep' }] }));
  const s = await spawnServer(t, ['--config', config, '--server_id', 's', '--data_dir', 'data', '--master', `127.0.0.1:${fake.port}`], dir);
  await waitFor('a refused reply in the log', async () => (/reply carries no proof of the master/.test(s.stdout()) ? true : undefined));
  t.match(s.stdout(), /master unreachable; serving without it and retrying/);
  t.notMatch(s.stdout(), /registered with master/, 'the fake master does not count as a master');
  t.ok(fake.got.length >= 1);
});
