import { join } from 'node:path';
import t from 'tap';
import { liveServers } from '../../support/cluster-probes.js';
import { BEAT_S } from '../../support/configs.js';
import { call, Client } from '../../support/frames.js';
import { startMasterHere } from '../../support/in-process.js';
import { tempDir } from '../../support/temp.js';
import { waitFor } from '../../support/waits.js';

const GIB = 1024 ** 3;

async function beat(port: number, address: string, location: [number, number], used = 0, total = GIB): Promise<void> {
  const reply = await call(port, { command: 'heartbeat', address, location, space_info: { total, used } });
  if (reply.status !== 'ok') throw new Error(`heartbeat refused: ${reply.message}`);
}

t.test('registration, heartbeats and the dead-server sweep', async (t) => {
  const dir = await tempDir(t);
  const master = await startMasterHere(t, dir);
  t.same(await call(master.port, { command: 'register_chunk_server', address: 'h:1', location: [1, 2] }), { status: 'ok' });
  // A heartbeat alone registers a server the master does not know (a restarted master).
  await beat(master.port, 'h:2', [3, 4], 100);
  // The reference chunk server registers without a location.
  const lastWord = Date.now();
  t.same(await call(master.port, { command: 'register_chunk_server', address: 'h:3' }), { status: 'ok' });
  t.same(await liveServers(master.port), ['h:1', 'h:2', 'h:3'], 'registration order');

  const graph = (await call(master.port, { command: 'get_graph_data' })).graph_data;
  t.same(
    graph.nodes.map((n: any) => [n.id, n.location, n.space_info]),
    [
      ['h:1', [1, 2], {}],
      ['h:2', [3, 4], { total: GIB, used: 100, available: GIB - 100 }],
      ['h:3', [0, 0], {}],
    ],
  );
  t.equal(graph.edges.length, 3);
  t.same(graph.active_clients, []);

  // Keep h:1 beating; the others fall silent and are dropped after 2 x heartbeat_interval.
  const keep = setInterval(() => void call(master.port, { command: 'heartbeat', address: 'h:1', location: [1, 2] }).catch(() => undefined), (BEAT_S * 1000) / 3);
  t.teardown(() => clearInterval(keep));
  await waitFor('silent servers dropped', async () => ((await liveServers(master.port)).length === 1 ? true : undefined), 30_000);
  t.ok(Date.now() - lastWord >= 2 * BEAT_S * 1000, 'not dropped before 2 x heartbeat_interval');
  t.same(await liveServers(master.port), ['h:1']);
});

t.test('placement: nearest servers for a client, replica ranking by distance and fullness', async (t) => {
  const dir = await tempDir(t);
  const master = await startMasterHere(t, dir, { heartbeatIntervalS: 30 });
  await beat(master.port, 'far:1', [100, 100], 0);
  await beat(master.port, 'near-full:1', [1, 1], Math.floor(0.95 * GIB));
  await beat(master.port, 'near:1', [2, 2], 0);
  await beat(master.port, 'mid:1', [30, 30], 0);

  // Without a known client: every live server, registration order.
  t.same((await call(master.port, { command: 'get_chunk_servers' })).servers, ['far:1', 'near-full:1', 'near:1', 'mid:1']);
  t.same((await call(master.port, { command: 'get_chunk_servers', client_id: 'nobody' })).servers, ['far:1', 'near-full:1', 'near:1', 'mid:1']);
  t.same(
    (await call(master.port, { command: 'get_replica_locations', excluding: 'far:1', client_id: null })).locations,
    ['near-full:1', 'near:1'],
    'no client: registration order, cut to replication_factor - 1',
  );

  t.same(await call(master.port, { command: 'register_client', client_id: 'c1', location: [0, 0] }), { status: 'ok' });
  // Ranked at once, not at the next heartbeat (the reference's defect).
  t.same((await call(master.port, { command: 'get_chunk_servers', client_id: 'c1' })).servers, ['near-full:1', 'near:1', 'mid:1'], 'three nearest, by distance');
  t.same(
    (await call(master.port, { command: 'get_replica_locations', excluding: ['near:1'], client_id: 'c1' })).locations,
    ['mid:1', 'near-full:1'],
    'score = 0.6 * distance / 141.4 + 0.4 * used / total: a nearly full server ranks behind a farther empty one',
  );
  t.same(await call(master.port, { command: 'client_heartbeat', client_id: 'c1', location: [100, 100] }), { status: 'ok' });
  t.same((await call(master.port, { command: 'get_chunk_servers', client_id: 'c1' })).servers[0], 'far:1', 'a heartbeat moves the client');
  t.same(await call(master.port, { command: 'client_heartbeat', client_id: 'c2' }), { status: 'error', message: 'bad_request: location (unknown client)' });
  t.same((await call(master.port, { command: 'get_graph_data' })).graph_data.active_clients, ['c1']);
});

t.test('file metadata: update, read, list, add, offsets; durable in the namespace and reloaded', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'meta', 'm.json');
  let master = await startMasterHere(t, dir, { metadataFile: file, replicationFactor: 3, heartbeatIntervalS: 30 });
  const p = master.port;

  t.same(await call(p, { command: 'get_file_metadata', file_path: '/none' }), { status: 'ok', metadata: null });
  t.same(await call(p, { command: 'update_file_metadata', file_path: '/f', chunk_id: 'c0', chunk_locations: ['a:1', 'b:1', 'c:1'], chunk_size: 100, pending_replication: false }), { status: 'ok' });
  t.same(await call(p, { command: 'update_file_metadata', file_path: '/f', chunk_id: 'c1', chunk_locations: ['a:1'], chunk_size: 40, pending_replication: true }), { status: 'ok' });
  t.same(await call(p, { command: 'update_chunk_offset', file_path: '/f', chunk_id: 'c1', offset: 50 }), { status: 'ok' });
  const expected = {
    file_path: '/f',
    total_size: 150,
    chunk_ids: ['c0', 'c1'],
    chunk_locations: { c0: ['a:1', 'b:1', 'c:1'], c1: ['a:1'] },
    chunk_offsets: { c0: 100, c1: 50 },
    last_chunk_id: 'c1',
    last_chunk_offset: 50,
    // Copies count toward the factor only on live servers; these addresses never beat.
    pending_replication: { c0: 3, c1: 3 },
  };
  t.same((await call(p, { command: 'get_file_metadata', file_path: '/f' })).metadata, expected);
  const c1 = await call(p, { command: 'get_chunk_locations', file_path: '/f', chunk_id: 'c1' });
  t.same([c1.status, c1.locations, c1.digests], ['ok', ['a:1'], []], 'no server reported it: nothing to check a read against');
  t.same(await call(p, { command: 'get_chunk_locations', file_path: '/f', chunk_id: 'nope' }), { status: 'ok', locations: [], version: 0, digests: [], primary: null, lease_end: null });
  t.same(await call(p, { command: 'add_file', file_path: '/g', total_size: 7, chunk_ids: ['g0'] }), { status: 'ok' });
  t.same(await call(p, { command: 'list_files' }), { status: 'ok', files: ['/f', '/g'] });

  t.same(await call(p, { command: 'update_chunk_offset', file_path: '/none', chunk_id: 'c1', offset: 1 }), { status: 'error', message: 'file_not_found' });
  t.same(await call(p, { command: 'update_chunk_offset', file_path: '/f', chunk_id: 'zz', offset: 1 }), { status: 'error', message: 'chunk_not_found' });
  t.same(await call(p, { command: 'update_file_metadata', file_path: '/f', chunk_id: '../x', chunk_locations: [] }), { status: 'error', message: 'invalid_chunk_id' });
  t.same(await call(p, { command: 'update_file_metadata', file_path: '/f', chunk_id: 'x', chunk_locations: ['nocolon'] }), { status: 'error', message: 'bad_request: chunk_locations' });
  t.same(await call(p, { command: 'heartbeat', address: 'h:1', location: ['x', 1] }), { status: 'error', message: 'bad_request: location' });
  t.same(await call(p, { command: 'store_chunk' }), { status: 'error', message: 'unknown_command: store_chunk' });

  await master.stop();
  master = await startMasterHere(t, dir, { metadataFile: file, replicationFactor: 3, heartbeatIntervalS: 30 });
  t.same((await call(master.port, { command: 'get_file_metadata', file_path: '/f' })).metadata, expected, 'reloaded at start');
  t.same((await call(master.port, { command: 'list_files' })).files, ['/f', '/g']);
});

t.test('a master serves many requests on one connection and survives garbage', async (t) => {
  const dir = await tempDir(t);
  const master = await startMasterHere(t, dir);
  const c = await Client.connect(master.port, t);
  for (let i = 0; i < 5; i++) t.same(await c.call({ command: 'list_files' }), { status: 'ok', files: [] });
  t.same(await c.call({ nocommand: 1 }), { status: 'error', message: 'bad_request: missing command' });
  c.write(Buffer.from('00000004c1c1c1c1', 'hex'));
  t.same(await c.next(), { status: 'error', message: 'bad_request: undecodable body' });
  t.same(await call(master.port, { command: 'list_files' }), { status: 'ok', files: [] }, 'still serving');
});

t.test('equal chunks of one file (one sha256 id) keep their places when chunk_index is given', async (t) => {
  const dir = await tempDir(t);
  const master = await startMasterHere(t, dir, { replicationFactor: 1, heartbeatIntervalS: 30 });
  const update = (chunk_id: string, chunk_index: number | undefined, at: string): Promise<unknown> =>
    call(master.port, { command: 'update_file_metadata', file_path: '/z', chunk_id, chunk_index, chunk_locations: [at], chunk_size: 10, pending_replication: false });
  await update('zero', 0, 'a:1');
  await update('zero', 1, 'b:1');
  t.same((await call(master.port, { command: 'get_chunk_locations', file_path: '/z', chunk_id: 'zero' })).locations, ['a:1', 'b:1'], 'a repeat adds its holders');
  await update('zero', 1, 'b:1');
  await update('tail', 2, 'a:1');
  await update('tail', undefined, 'a:1');
  const meta = (await call(master.port, { command: 'get_file_metadata', file_path: '/z' })).metadata;
  t.same(meta.chunk_ids, ['zero', 'zero', 'tail'], 'a repeat at the next index is a new place; a re-store is not');
  t.equal(meta.total_size, 30);
  // A re-store reports the holders of the bytes just written; ids of appended chunks stay
  // while their bytes change, so earlier holders are not kept.
  t.same(meta.chunk_locations.zero, ['b:1']);
});

t.test('a server being decommissioned is offered for no new chunk', async (t) => {
  const dir = await tempDir(t);
  const master = await startMasterHere(t, dir);
  for (const [address, x] of [['a:1', 10], ['b:1', 20], ['c:1', 30], ['d:1', 40]] as const) await beat(master.port, address, [x, 0]);
  await call(master.port, { command: 'register_client', client_id: 'c1', location: [10, 0] });
  t.same((await call(master.port, { command: 'get_chunk_servers', client_id: 'c1' })).servers, ['a:1', 'b:1', 'c:1'], 'before: the three nearest');
  t.match(await call(master.port, { command: 'decommission_server', address: 'a:1' }), { status: 'ok', address: 'a:1', state: 'decommissioning', chunks_left: 0 });
  t.same((await call(master.port, { command: 'get_chunk_servers', client_id: 'c1' })).servers, ['b:1', 'c:1', 'd:1'], 'the nearest without it');
  t.same(await call(master.port, { command: 'get_chunk_servers' }), { status: 'ok', servers: ['b:1', 'c:1', 'd:1'], decommissioning: ['a:1'] }, 'nor for an unknown client; named apart');
  t.same((await call(master.port, { command: 'get_replica_locations', excluding: ['b:1'], client_id: 'c1' })).locations, ['c:1', 'd:1'], 'replicas skip it too');
  t.same((await call(master.port, { command: 'get_replica_locations', excluding: [], client_id: null })).locations, ['b:1', 'c:1']);
  const status = await call(master.port, { command: 'cluster_status' });
  t.same(status.servers.map((s: any) => [s.address, s.state]).sort(), [['a:1', 'decommissioning'], ['b:1', 'live'], ['c:1', 'live'], ['d:1', 'live']], 'still live while it is emptied');
});
