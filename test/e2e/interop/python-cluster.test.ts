import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { spawnChunk } from '../../support/cluster.js';
import { waitForServers } from '../../support/cluster-probes.js';
import { chunkToml, masterToml, writeToml } from '../../support/configs.js';
import { ROOT } from '../../support/paths.js';
import { spawnMaster } from '../../support/processes.js';
import { tempDir } from '../../support/temp.js';

const run = promisify(execFile);

t.test('a Python client with the reference framing uploads through our master and chunk servers and downloads byte-exact', async (t) => {
  const dir = await tempDir(t);
  const master = await spawnMaster(t, ['--config', await writeToml(dir, 'm.toml', masterToml()), '--port', '0', '--metadata', 'meta.json'], dir);
  const config = await writeToml(dir, 'c.toml', chunkToml());
  // The client sits at (0, 0); the nearest server has room for one chunk only, so the
  // client's fallback on insufficient_space is exercised.
  const servers = await Promise.all([
    spawnChunk(t, dir, { id: 'near', master: master.port, config, x: 1, y: 1, spaceMb: 1 }),
    spawnChunk(t, dir, { id: 'mid', master: master.port, config, x: 5, y: 5 }),
    spawnChunk(t, dir, { id: 'far', master: master.port, config, x: 60, y: 60 }),
  ]);
  await waitForServers(master.port, servers.map((s) => s.address));

  const { stdout } = await run('/usr/bin/python3', [join(ROOT, 'test', 'support', 'python', 'cluster_client.py'), String(master.port)], { timeout: 60_000 });
  const result = JSON.parse(stdout);
  t.equal(result.equal, true, 'downloaded bytes equal the uploaded ones (two chunks share an id)');
  t.equal(result.chunks, 3);
  t.equal(result.total_size, 2 * 768 * 1024 + 512 * 1024 + 5);
  t.ok(result.fallbacks >= 1, 'a full server was skipped by the client');
  t.same(result.locations[0], 3, 'the first chunk is on all three servers');
  t.ok(result.locations.every((n: number) => n >= 2), 'every chunk has at least one replica');
});
