// The master's registry of chunk servers and clients called directly, on a clock the test
// moves: liveness, bounds, and the graph get_graph_data answers with (the rankings of
// get_chunk_servers and get_replica_locations: placement-policy.test.ts).
import t from 'tap';
import { MSG } from '../../../src/errors.js';
import { Nodes, RegistrationFull, type NodesOptions } from '../../../src/master/nodes.js';
import { chunkServersFor } from '../../../src/master/placement-policy.js';

function nodes(over: Partial<NodesOptions> = {}): { n: Nodes; clock: { ms: number } } {
  const clock = { ms: 1000 };
  const n = new Nodes({ deadAfterMs: 100, clientTimeoutMs: 500, now: () => clock.ms, ...over });
  return { n, clock };
}

t.test('registration, liveness and the sweep', async (t) => {
  const { n, clock } = nodes();
  t.equal(n.registerServer('a:1', [1, 2]), true, 'new');
  t.equal(n.registerServer('a:1', null), false, 'known and live');
  t.same(n.server('a:1')!.location, [1, 2], 'no location keeps the old one');
  t.equal(n.server('a:1')!.space, null);
  t.equal(n.registerServer('b:1', null), true);
  t.same(n.server('b:1')!.location, [0, 0], 'a server that sends no location sits at (0, 0)');
  clock.ms += 100;
  t.ok(n.isLive('a:1'), 'live at exactly dead_after');
  clock.ms += 1;
  t.notOk(n.isLive('a:1'), 'dead after it');
  t.notOk(n.isLive('nobody:1'));
  t.equal(n.registerServer('a:1', [3, 4]), true, 'back from the dead counts as new');
  t.same(n.server('a:1')!.location, [3, 4]);
  t.same(n.live().map((s) => s.address), ['a:1']);
  n.registerClient('c1', [5, 5]);
  clock.ms += 101;
  n.heartbeat('b:1', null, null);
  t.same(n.sweep(), { servers: ['a:1'], clients: [] });
  t.equal(n.server('a:1'), undefined, 'a dead server is forgotten by the sweep');
  t.ok(n.server('b:1'));
  clock.ms += 299;
  t.same(n.sweep(), { servers: ['b:1'], clients: [] }, 'the client is within its timeout');
  clock.ms += 100;
  t.same(n.sweep(), { servers: [], clients: [] }, 'at exactly the client timeout it stays');
  clock.ms += 1;
  t.same(n.sweep(), { servers: [], clients: ['c1'] });
  t.same(n.clientList(), []);
});

t.test('heartbeats carry space and register unknown servers', async (t) => {
  const { n, clock } = nodes();
  t.equal(n.heartbeat('a:1', [1, 1], { total: 100, used: 10 }), true);
  t.same(n.server('a:1')!.space, { total: 100, used: 10 });
  clock.ms += 50;
  t.equal(n.heartbeat('a:1', null, null), false);
  t.same(n.server('a:1')!.space, { total: 100, used: 10 }, 'a beat without space_info keeps the last one');
  t.equal(n.server('a:1')!.lastBeatMs, 1050);
  t.same(n.server('a:1')!.location, [1, 1]);
});

t.test('clients: heartbeats, locations, bounds', async (t) => {
  const { n, clock } = nodes({ maxClients: 2, maxServers: 1 });
  t.equal(n.clientHeartbeat('c1', null), false, 'unknown and no location');
  t.equal(n.clientHeartbeat('c1', [1, 1]), true, 'unknown with a location registers');
  clock.ms += 10;
  t.equal(n.clientHeartbeat('c1', null), true);
  t.same(n.clientList(), [{ client_id: 'c1', location: [1, 1] }]);
  t.equal(n.clientHeartbeat('c1', [2, 2]), true);
  t.same(n.clientList(), [{ client_id: 'c1', location: [2, 2] }], 'a heartbeat may move a client');
  n.registerClient('c2', [3, 3]);
  n.registerClient('c2', [4, 4]);
  t.same(n.clientList()[1], { client_id: 'c2', location: [4, 4] }, 'registering again is no new client');
  const err = t.throws(() => n.registerClient('c3', [0, 0])) as RegistrationFull;
  t.ok(err instanceof RegistrationFull);
  t.equal(err.message, MSG.tooManyClients);
  t.equal(err.name, 'RegistrationFull');
  n.registerServer('a:1', null);
  t.equal(n.registerServer('a:1', null), false, 'a known server is no new one at the bound');
  t.equal((t.throws(() => n.registerServer('b:1', null)) as Error).message, MSG.tooManyServers);
  // A late client's beat after the sweep forgot it registers again; the bound still applies.
  clock.ms += 1000;
  n.sweep();
  t.equal(n.clientHeartbeat('c9', [1, 1]), true);
});

t.test('default bounds', async (t) => {
  const { n } = nodes();
  for (let i = 0; i < 1000; i++) n.registerServer(`s${i}:1`, null);
  t.throws(() => n.registerServer('one-more:1', null), { message: MSG.tooManyServers });
  for (let i = 0; i < 10_000; i++) n.registerClient(`c${i}`, [0, 0]);
  t.throws(() => n.registerClient('one-more', [0, 0]), { message: MSG.tooManyClients });
});

t.test('get_graph_data: nodes, space, edges to the nearest three, each pair once', async (t) => {
  const { n } = nodes();
  n.heartbeat('a:1', [0, 0], { total: 100, used: 30 });
  n.heartbeat('b:1', [10, 0], null);
  n.heartbeat('c:1', [20, 0], null);
  n.heartbeat('d:1', [30, 0], null);
  n.heartbeat('e:1', [90, 0], null);
  n.registerClient('k', [11, 0]);
  const g = (await n.graph()) as { nodes: any[]; edges: { source: string; target: string; distance: number }[]; active_clients: string[] };
  t.same(g.nodes[0], { id: 'a:1', type: 'chunk_server', location: [0, 0], space_info: { total: 100, used: 30, available: 70 } });
  t.same(g.nodes[1].space_info, {}, 'no space told yet');
  t.same(g.nodes[5], { id: 'k', type: 'client', location: [11, 0], space_info: null });
  t.same(g.active_clients, ['k']);
  const edges = g.edges.map((e) => `${e.source}-${e.target}:${e.distance}`);
  t.same(edges, [
    'a:1-b:1:10', 'a:1-c:1:20', 'a:1-d:1:30',
    'b:1-c:1:10', 'b:1-d:1:20',
    'c:1-d:1:10',
    'e:1-d:1:60', 'e:1-c:1:70', 'e:1-b:1:80',
    'k-b:1:1', 'k-c:1:9', 'k-a:1:11',
  ], 'server pairs once, the client to its three nearest');
});

t.test('get_graph_data of many nodes hands the event loop back and stays linear', async (t) => {
  const { n } = nodes();
  for (let i = 0; i < 300; i++) n.heartbeat(`s${i}:1`, [i % 100, Math.floor(i / 100)], null);
  let served = false;
  setImmediate(() => (served = true));
  const g = (await n.graph()) as { nodes: unknown[]; edges: unknown[] };
  t.ok(served, 'other work ran while the graph was built');
  t.equal(g.nodes.length, 300);
  t.ok(g.edges.length <= 300 * 3, 'at most three edges per node');
  t.ok(g.edges.length >= 300, 'every node is linked');
});

t.test('distances use both coordinates; ties in the graph keep registration order', async (t) => {
  const { n } = nodes();
  n.heartbeat('s1:1', [0, 10], null);
  n.heartbeat('s2:1', [5, 0], null);
  n.heartbeat('s3:1', [0, 14], null);
  n.registerClient('c', [0, 10]);
  t.same(chunkServersFor(n, 'c'), ['s1:1', 's3:1', 's2:1']);
  const g = nodes().n;
  g.heartbeat('a:1', [0, 0], null);
  g.heartbeat('b:1', [10, 0], null);
  g.heartbeat('c:1', [20, 0], null);
  g.heartbeat('d:1', [30, 0], null);
  g.registerClient('m', [15, 0]);
  const edges = ((await g.graph()) as { edges: { source: string; target: string; distance: number }[] }).edges.filter((e) => e.source === 'm').map((e) => `${e.target}:${e.distance}`);
  t.same(edges, ['b:1:5', 'c:1:5', 'a:1:15'], 'equal distances: the server registered first, also for the third place');
});
