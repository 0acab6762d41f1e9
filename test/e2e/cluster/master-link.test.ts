// Chunk servers and the project's master as real processes: registration, heartbeats,
// outages and restarts.
import t from 'tap';
import { charge } from '../../../src/storage/index.js';
import { spawnChunk } from '../../support/cluster.js';
import { liveServers, waitForServers } from '../../support/cluster-probes.js';
import { chunkToml, freePort, masterToml, writeToml } from '../../support/configs.js';
import { bytes, MIB } from '../../support/data.js';
import { call } from '../../support/frames.js';
import { spawnMaster } from '../../support/processes.js';
import { tempDir } from '../../support/temp.js';
import { waitFor } from '../../support/waits.js';

t.test('the master gets the registration (address, location) and heartbeats whose used grows by the bytes stored', async (t) => {
  const dir = await tempDir(t);
  const master = await spawnMaster(t, ['--config', await writeToml(dir, 'm.toml', masterToml()), '--port', '0', '--metadata', 'meta.json'], dir);
  const config = await writeToml(dir, 'c.toml', chunkToml());
  const s1 = await spawnChunk(t, dir, { id: 's1', master: master.port, config, x: 12.5, y: 40, spaceMb: 16 });

  const node = async (): Promise<any> => {
    const graph = (await call(master.port, { command: 'get_graph_data' })).graph_data;
    return graph.nodes.find((n: any) => n.id === s1.address);
  };
  const first = await waitFor('registration', node);
  t.same(first.location, [12.5, 40]);
  t.equal(first.type, 'chunk_server');
  await waitFor('space_info', async () => ((await node()).space_info.total === 16 * MIB ? true : undefined));
  t.equal((await node()).space_info.used, 0);

  t.match(await call(s1.port, { command: 'store_chunk', chunk_id: 'c1', file_path: '/f', data: bytes(123_456) }), { status: 'ok', replicas: 0 });
  await waitFor('used += charge(123456)', async () => ((await node()).space_info.used === charge(123_456) ? true : undefined));
  t.match(await call(s1.port, { command: 'store_chunk', chunk_id: 'c2', file_path: '/f', data: bytes(1000) }), { status: 'ok' });
  await waitFor('used += charge(1000)', async () => ((await node()).space_info.used === charge(123_456) + charge(1000) ? true : undefined));
});

t.test('master down at start: the server serves, registers once the master starts, and again after a master restart', async (t) => {
  const dir = await tempDir(t);
  const BEAT = 1;
  const port = await freePort();
  // A generous master timeout: on a loaded machine a slow beat must not count as an outage.
  const config = await writeToml(dir, 'c.toml', chunkToml({ beatS: BEAT, masterTimeoutS: 20 }));
  const s1 = await spawnChunk(t, dir, { id: 's1', master: port, config });
  const outages = (): number => s1.stdout().split('\n').filter((l) => l.includes('master unreachable; serving')).length;

  const data = bytes(50_000, 3);
  t.match(await call(s1.port, { command: 'store_chunk', chunk_id: 'early', file_path: '/f', data }), { status: 'ok', chunk_id: 'early', replicas: 0 });
  t.same((await call(s1.port, { command: 'retrieve_chunk', chunk_id: 'early' })).data, data);
  await waitFor('outage logged', async () => (outages() === 1 ? true : undefined));

  const mconfig = await writeToml(dir, 'm.toml', masterToml({ beatS: BEAT }));
  const margs = ['--config', mconfig, '--port', String(port), '--metadata', 'meta.json'];
  let master = await spawnMaster(t, margs, dir);
  await waitForServers(master.port, [s1.address]);
  // Registered in its own log only once a heartbeat was taken too: from here, a lost master is a new outage.
  await waitFor('registered', async () => (s1.stdout().includes('"msg":"registered with master"') ? true : undefined));
  t.equal(outages(), 1, 'retries against a master not yet started were one outage');

  // A restarted master knows nothing; it must learn of s1 again.
  master.proc.kill('SIGKILL');
  await master.exited;
  await waitFor('second outage noticed', async () => (outages() === 2 ? true : undefined));
  master = await spawnMaster(t, margs, dir);
  await waitForServers(master.port, [s1.address]);
  t.pass('registered with the restarted master');
  await waitFor('log', async () => (s1.stdout().includes('master is back; registered again') ? true : undefined));
  t.equal(outages(), 2, 'one warning per outage, not one per beat');
});

t.test('a chunk server that stops beating is dropped after 2 x heartbeat_interval', async (t) => {
  const dir = await tempDir(t);
  const master = await spawnMaster(t, ['--config', await writeToml(dir, 'm.toml', masterToml()), '--port', '0', '--metadata', 'meta.json'], dir);
  const config = await writeToml(dir, 'c.toml', chunkToml());
  const s1 = await spawnChunk(t, dir, { id: 's1', master: master.port, config });
  const s2 = await spawnChunk(t, dir, { id: 's2', master: master.port, config });
  await waitForServers(master.port, [s1.address, s2.address]);
  s2.proc.kill('SIGKILL');
  await waitForServers(master.port, [s1.address]);
  t.same(await liveServers(master.port), [s1.address]);
});
