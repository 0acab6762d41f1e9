// Chunk servers and the project's master as real processes: registration, heartbeats,
// outages and restarts.
import t from 'tap';
import { chunkToml, freePort, liveServers, masterToml, spawnChunk, spawnMaster, waitFor, waitForServers, writeToml } from '../support/cluster-helpers.js';
import { bytes, call, MIB, tempDir } from '../support/helpers.js';

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
  await waitFor('used += 123456', async () => ((await node()).space_info.used === 123_456 ? true : undefined), 3000);
  t.match(await call(s1.port, { command: 'store_chunk', chunk_id: 'c2', file_path: '/f', data: bytes(1000) }), { status: 'ok' });
  await waitFor('used += 1000', async () => ((await node()).space_info.used === 124_456 ? true : undefined), 3000);
});

t.test('master down at start: the server serves, registers within two intervals of the master starting, and again after a master restart', async (t) => {
  const dir = await tempDir(t);
  const BEAT = 1;
  const port = await freePort();
  const config = await writeToml(dir, 'c.toml', chunkToml({ beatS: BEAT }));
  const s1 = await spawnChunk(t, dir, { id: 's1', master: port, config });

  const data = bytes(50_000, 3);
  t.match(await call(s1.port, { command: 'store_chunk', chunk_id: 'early', file_path: '/f', data }), { status: 'ok', chunk_id: 'early', replicas: 0 });
  t.same((await call(s1.port, { command: 'retrieve_chunk', chunk_id: 'early' })).data, data);
  await waitFor('outage logged', async () => (s1.stdout().includes('master unreachable; serving without it and retrying') ? true : undefined), 3000);

  const mconfig = await writeToml(dir, 'm.toml', masterToml({ beatS: BEAT }));
  const margs = ['--config', mconfig, '--port', String(port), '--metadata', 'meta.json'];
  let master = await spawnMaster(t, margs, dir);
  const up = Date.now();
  await waitForServers(master.port, [s1.address], 5000);
  const took = Date.now() - up;
  t.ok(took <= 2 * BEAT * 1000, `registered ${took} ms after the master started (limit ${2 * BEAT * 1000})`);

  // A restarted master knows nothing; it must learn of s1 again.
  const outages = (): number => s1.stdout().split('\n').filter((l) => l.includes('master unreachable; serving')).length;
  // Counted from here: on a loaded machine a slow beat may already have been an outage.
  const before = outages();
  master.proc.kill('SIGKILL');
  await master.exited;
  await waitFor('second outage noticed', async () => (outages() > before ? true : undefined), 15_000).catch((err: Error) => {
    throw new Error(`${err.message}; chunk server log: ${s1.stdout().split('\n').slice(-8).join('\n')}`);
  });
  master = await spawnMaster(t, margs, dir);
  await waitForServers(master.port, [s1.address], 5000);
  t.pass('registered with the restarted master');
  await waitFor('log', async () => (s1.stdout().includes('master is back; registered again') ? true : undefined), 3000);
  t.equal(outages(), before + 1, 'one warning per outage, not one per beat');
});

t.test('a chunk server that stops beating is dropped after 2 x heartbeat_interval', async (t) => {
  const dir = await tempDir(t);
  const master = await spawnMaster(t, ['--config', await writeToml(dir, 'm.toml', masterToml()), '--port', '0', '--metadata', 'meta.json'], dir);
  const config = await writeToml(dir, 'c.toml', chunkToml());
  const s1 = await spawnChunk(t, dir, { id: 's1', master: master.port, config });
  const s2 = await spawnChunk(t, dir, { id: 's2', master: master.port, config });
  await waitForServers(master.port, [s1.address, s2.address]);
  s2.proc.kill('SIGKILL');
  await waitForServers(master.port, [s1.address], 5000);
  t.same(await liveServers(master.port), [s1.address]);
});
