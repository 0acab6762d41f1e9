// Issue 14, item 3: a chunk server sends chunk data only to members of its cluster (the
// master's list, or [chunk_server] peers when standalone), never to itself, never twice in
// one chain, and along at most 8 servers. A client cannot use it as a relay or port scanner.
import { createServer, type Server } from 'node:net';
import t, { type Test } from 'tap';
import { spawnChunk } from '../../support/cluster.js';
import { waitForServers } from '../../support/cluster-probes.js';
import { chunkToml, masterToml, writeToml } from '../../support/configs.js';
import { bytes } from '../../support/data.js';
import { call } from '../../support/frames.js';
import { spawnMaster, spawnServer } from '../../support/processes.js';
import { tempDir } from '../../support/temp.js';

/** A TCP listener that counts the connections it gets (what an arbitrary target would see). */
async function witness(t: Test): Promise<{ address: string; connections: () => number }> {
  let n = 0;
  const server: Server = createServer((s) => {
    n++;
    s.destroy();
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  t.teardown(() => new Promise<void>((res) => server.close(() => res())));
  const a = server.address();
  return { address: `127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`, connections: () => n };
}

const replicate = (chain: string[], id: string, at = 0): Record<string, unknown> => ({
  command: 'replicate_chunk',
  chunk_id: id,
  data: bytes(1000, 5),
  replica_servers: chain,
  current_replica: at,
});

t.test('standalone without peers: no chain data leaves the server', async (t) => {
  const dir = await tempDir(t);
  const target = await witness(t);
  const s = await spawnServer(t, ['--data_dir', 'data', '--no_master'], dir);
  const self = `127.0.0.1:${s.port}`;
  t.same(await call(s.port, replicate([self, target.address], 'relay')), { status: 'error', message: `forward_refused: ${target.address}`, stored_locally: true });
  t.equal(target.connections(), 0, 'the named address was never contacted');
  t.match(await call(s.port, { command: 'retrieve_chunk', chunk_id: 'relay' }), { status: 'ok' }, 'the local copy is kept, as with a dead link');
  t.same(await call(s.port, replicate(['127.0.0.1:1', self], 'loop', 0)), { status: 'error', message: `forward_refused: ${self}`, stored_locally: true }, 'never to itself');
  t.same(await call(s.port, replicate([self, target.address, self], 'twice')), { status: 'error', message: 'bad_request: replica_servers (an address twice)' });
  const long = Array.from({ length: 9 }, (_, i) => `127.0.0.1:${6000 + i}`);
  t.same(await call(s.port, replicate(long, 'long', 8)), { status: 'error', message: 'bad_request: replica_servers (more than 8)' });
  t.equal(target.connections(), 0);
});

t.test('with a master: only the servers it lists are forwarded to', async (t) => {
  const dir = await tempDir(t);
  const target = await witness(t);
  const master = await spawnMaster(t, ['--config', await writeToml(dir, 'm.toml', masterToml()), '--metadata', 'meta.json'], dir);
  const config = await writeToml(dir, 'c.toml', chunkToml());
  const a = await spawnChunk(t, dir, { id: 'a', master: master.port, config });
  const b = await spawnChunk(t, dir, { id: 'b', master: master.port, config });
  await waitForServers(master.port, [a.address, b.address]);
  t.same(await call(a.port, replicate([a.address, target.address], 'relay')), { status: 'error', message: `forward_refused: ${target.address}`, stored_locally: true });
  t.same(await call(a.port, replicate([a.address, b.address, target.address], 'relay2')), { status: 'error', message: `replication_failed: ${target.address}`, stored_locally: true }, 'upstream names the refused address');
  t.equal(target.connections(), 0, 'the named address was never contacted');
  t.same(await call(a.port, replicate([a.address, b.address], 'member')), { status: 'ok', chunk_id: 'member', version: 1 }, 'a member is forwarded to');
  t.match(await call(b.port, { command: 'retrieve_chunk', chunk_id: 'member' }), { status: 'ok' });
});
