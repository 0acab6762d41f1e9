// The master's handlers called through its dispatch, in process, on a real namespace in a
// temp dir: the replies chunk servers and clients get for each command, and what a
// command changes in what the next ones answer.
import { join } from 'node:path';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import { MSG } from '../../../../src/errors.js';
import { ChunkMap } from '../../../../src/master/chunk-map.js';
import type { MasterContext } from '../../../../src/master/commands/context.js';
import { masterCommands } from '../../../../src/master/commands/index.js';
import { Members } from '../../../../src/master/members.js';
import { Namespace } from '../../../../src/master/namespace/namespace.js';
import { Nodes } from '../../../../src/master/nodes.js';
import { RepairScheduler } from '../../../../src/master/repair-scheduler.js';
import { tempDir } from '../../../support/temp.js';
import { Leases } from '../../../../src/master/leases.js';

const log = pino({ level: 'silent' });
const D1 = 'aa';

async function master(t: Test, factor = 2, clock = { ms: Date.now() }, reportMarginMs = 0) {
  const { ns } = await Namespace.open(join(await tempDir(t), 'ns'), null);
  t.teardown(() => ns.close());
  const nodes = new Nodes({ deadAfterMs: 60_000, clientTimeoutMs: 60_000, now: () => clock.ms });
  const map = new ChunkMap();
  const members = new Members(ns);
  const repairer = new RepairScheduler({
    ns, map, nodes, members, factor, maxCopiesPerServer: 2, gcGraceMs: 3_600_000, settleMs: 0, reportMarginMs: 0,
    instructionTimeoutMs: 60_000, distanceWeight: 0.6, spaceWeight: 0.4, log, now: () => clock.ms,
  });
  const ctx: MasterContext = { nodes, members, ns, map, repairer, leases: Leases.inMemory(60_000), placement: { distanceWeight: 0.6, spaceWeight: 0.4 }, replicationFactor: factor, reportMarginMs, log };
  const call = (body: Record<string, unknown>): Promise<Record<string, any>> => masterCommands.dispatch(body, ctx);
  const report = (address: string, chunks: [string, number, string?][]) =>
    call({ command: 'heartbeat', address, chunk_report: chunks.map(([chunk_id, length, digest]) => ({ chunk_id, length, version: 0, digest: digest ?? D1 })) });
  return { ctx, call, report };
}

t.test('every command is dispatched; unknown ones and bad bodies are refused', async (t) => {
  const { call } = await master(t);
  t.same(masterCommands.names.slice().sort(), [
    'add_file', 'allocate_chunk', 'client_heartbeat', 'cluster_status', 'create_file', 'decommission_server', 'delete_file', 'forget_server', 'get_chunk_locations', 'get_chunk_servers',
    'get_file_metadata', 'get_graph_data', 'get_lease', 'get_replica_locations', 'heartbeat', 'list_files', 'master_status', 'register_chunk_server', 'register_client',
    'rename_file', 'report_corrupt_chunk', 'update_chunk_offset', 'update_file_metadata',
  ]);
  t.same(await call({ command: 'store_chunk' }), { status: 'error', message: 'unknown_command: store_chunk' });
  t.same(await call({ command: 'toString' }), { status: 'error', message: 'unknown_command: toString' }, 'inherited names are no commands');
  t.same(await call({ command: 'register_chunk_server', address: 'nope' }), { status: 'error', message: 'bad_request: address' });
});

t.test('servers register, report, and are asked for a full report until they send one', async (t) => {
  const { ctx, call, report } = await master(t);
  t.same(await call({ command: 'register_chunk_server', address: 'a:1', location: [1, 2] }), { status: 'ok' });
  t.same(ctx.nodes.server('a:1')!.location, [1, 2]);
  t.same(await call({ command: 'heartbeat', address: 'a:1', space_info: { total: 100, used: 5 } }), { status: 'ok', report_wanted: true });
  t.same(ctx.nodes.server('a:1')!.space, { total: 100, used: 5 });
  t.same(await report('a:1', [['c1', 4]]), { status: 'ok' }, 'reporting: nothing more wanted');
  t.same([...ctx.map.chunksOn('a:1')], ['c1']);
  t.same(await call({ command: 'heartbeat', address: 'a:1' }), { status: 'ok' });
  t.same(await call({ command: 'heartbeat', address: 'a:1', chunk_changes: [{ chunk_id: 'c1', deleted: true }, { chunk_id: 'c2', length: 3, digest: 'bb' }] }), { status: 'ok' });
  t.same([...ctx.map.chunksOn('a:1')], ['c2'], 'changes applied');
  t.same(await call({ command: 'register_chunk_server', address: 'a:1' }), { status: 'ok' });
  t.same(await call({ command: 'heartbeat', address: 'a:1' }), { status: 'ok' }, 'registering again while live changes nothing');
  t.same(await call({ command: 'heartbeat', address: 'new:1', location: [3, 3] }), { status: 'ok', report_wanted: true }, 'an unknown server is registered by its heartbeat');
  t.ok(ctx.nodes.isLive('new:1'));
  await report('new:1', [['c2', 3, 'bb']]);
  t.same(await call({ command: 'heartbeat', address: 'new:1', corrupt_chunks: ['c2'] }), { status: 'ok' });
  t.same([...ctx.map.chunksOn('new:1')], [], 'a corrupt copy is no longer held');
});

t.test('a server forgotten and back must send its full report again', async (t) => {
  const { ctx, call, report } = await master(t);
  await report('a:1', [['c1', 4]]);
  ctx.nodes.sweep();
  // Simulate what the sweep does for a dead server, without waiting for one to die.
  ctx.map.unreported('a:1');
  t.same(await call({ command: 'heartbeat', address: 'a:1' }), { status: 'ok', report_wanted: true });
});

t.test('master_status of a master without etcd', async (t) => {
  const { call } = await master(t);
  t.same(await call({ command: 'master_status' }), { status: 'ok', role: 'single', leader: null, since: null });
});

t.test('files: add, record, locate, list, offsets, delete', async (t) => {
  const { ctx, call, report } = await master(t);
  t.same(await call({ command: 'get_file_metadata', file_path: '/f' }), { status: 'ok', metadata: null });
  t.same(await call({ command: 'get_chunk_locations', file_path: '/f', chunk_id: 'c1' }), { status: 'ok', locations: [], version: 0, digests: [], primary: null, lease_end: null }, 'no such file');
  t.same(await call({ command: 'add_file', file_path: '/f', total_size: 4, chunk_ids: ['c1'] }), { status: 'ok' });
  t.same(await call({ command: 'list_files' }), { status: 'ok', files: ['/f'] });
  await call({ command: 'register_chunk_server', address: 'a:1' });
  await call({ command: 'register_chunk_server', address: 'ref:1' });
  t.same(await call({ command: 'update_file_metadata', file_path: '/f', chunk_id: 'c1', chunk_locations: ['a:1', 'ref:1'], chunk_size: 4, version: 1 }), { status: 'ok' });
  t.match(await call({ command: 'get_chunk_locations', file_path: '/f', chunk_id: 'c1' }), { status: 'ok', locations: ['a:1', 'ref:1'], version: 1, digests: [], primary: 'a:1', lease_end: Number }, 'no digest: only a primary spoke; the last chunk gets a lease');
  t.same(await call({ command: 'get_chunk_locations', file_path: '/f', chunk_id: 'zz' }), { status: 'ok', locations: [], version: 0, digests: [], primary: null, lease_end: null }, 'a chunk the file does not list');
  const meta = (await call({ command: 'get_file_metadata', file_path: '/f' })).metadata;
  t.same(meta.chunk_locations, { c1: ['a:1', 'ref:1'] });
  t.same(meta.pending_replication, {}, 'two live holders at factor 2');
  t.same([meta.chunk_offsets.c1, meta.last_chunk_id], [4, 'c1']);

  // a:1 reports; ref:1 (a reference server) never does.
  await report('a:1', [['c1', 4]]);
  t.same(await call({ command: 'update_file_metadata', file_path: '/f', chunk_id: 'c1', chunk_locations: ['a:1'], chunk_size: 4 }), { status: 'ok' });
  t.same((await call({ command: 'get_chunk_locations', file_path: '/f', chunk_id: 'c1' })).locations, ['a:1'], 'a non-reporting holder the store left out no longer counts');
  t.same((await call({ command: 'get_file_metadata', file_path: '/f' })).metadata.pending_replication, { c1: 1 });

  await call({ command: 'update_file_metadata', file_path: '/f', chunk_id: 'c1', chunk_locations: ['a:1', 'ref:1'], chunk_size: 4 });
  t.same(await call({ command: 'update_chunk_offset', file_path: '/f', chunk_id: 'c1', offset: 9 }), { status: 'ok' });
  t.same(ctx.map.replicas('c1')!.get('ref:1')!.length, 9, 'a reference client\'s append: a non-reporting holder is taken to have it');
  t.same(ctx.map.replicas('c1')!.get('a:1')!.length, 4, 'a reporting one is judged by its next report');
  t.same(ctx.map.raiseOf('c1')!.explicit, false);
  t.same((await call({ command: 'get_chunk_locations', file_path: '/f', chunk_id: 'c1' })).locations, ['ref:1'], 'the shorter copy, not proven stale yet, is not offered while a current one is');

  t.same(await call({ command: 'update_chunk_offset', file_path: '/f', chunk_id: 'c1', offset: 12, version: 3, chunk_locations: ['a:1'] }), { status: 'ok' });
  t.same(ctx.map.replicas('c1')!.get('a:1'), { ...ctx.map.replicas('c1')!.get('a:1')!, length: 12, version: 3 });
  t.same(ctx.map.raiseOf('c1')!.explicit, true);
  t.same((await call({ command: 'get_chunk_locations', file_path: '/f', chunk_id: 'c1' })).locations, ['a:1'], 'the holders named by the primary; any other copy is stale at once');
  t.same((await call({ command: 'get_file_metadata', file_path: '/f' })).metadata.chunk_offsets, { c1: 12 });
  t.same(await call({ command: 'update_chunk_offset', file_path: '/g', chunk_id: 'c1', offset: 1 }), { status: 'error', message: MSG.fileNotFound });
  t.same(await call({ command: 'update_chunk_offset', file_path: '/f', chunk_id: 'zz', offset: 1 }), { status: 'error', message: MSG.chunkNotFound });

  t.same(await call({ command: 'delete_file', file_path: '/f' }), { status: 'ok' });
  t.same(await call({ command: 'delete_file', file_path: '/f' }), { status: 'error', message: MSG.fileNotFound });
  t.same(await call({ command: 'list_files' }), { status: 'ok', files: [] });
  await ctx.repairer.pass();
  t.same((await call({ command: 'heartbeat', address: 'a:1' })).instructions, [{ op: 'delete', chunk_id: 'c1', length: 12, age_ms: 0 }], 'the deleted file\'s chunk is garbage at once');
});

t.test('copies instructed through heartbeats; a failed copy is instructed again', async (t) => {
  const { ctx, call, report } = await master(t);
  await call({ command: 'add_file', file_path: '/f', total_size: 4, chunk_ids: ['c1'] });
  await report('a:1', [['c1', 4]]);
  await report('b:1', []);
  await ctx.repairer.pass();
  t.same(await call({ command: 'heartbeat', address: 'a:1' }), { status: 'ok', instructions: [{ op: 'copy', chunk_id: 'c1', target: 'b:1', version: 0, length: 4 }] });
  t.same(await call({ command: 'heartbeat', address: 'a:1' }), { status: 'ok' }, 'taken once');
  await ctx.repairer.pass();
  t.same(await call({ command: 'heartbeat', address: 'a:1' }), { status: 'ok' }, 'in flight: not instructed twice');
  t.same(await call({ command: 'heartbeat', address: 'a:1', failed_copies: [{ chunk_id: 'c1', target: 'b:1' }] }), { status: 'ok' });
  await ctx.repairer.pass();
  t.same((await call({ command: 'heartbeat', address: 'a:1' })).instructions, [{ op: 'copy', chunk_id: 'c1', target: 'b:1', version: 0, length: 4 }]);
  t.same(await call({ command: 'heartbeat', address: 'b:1', chunk_changes: [{ chunk_id: 'c1', length: 4, digest: D1 }] }), { status: 'ok' });
  t.same((await call({ command: 'cluster_status' })).chunks.copies_in_flight, 0, 'the copy landed');
});

t.test('clients, placement and the graph', async (t) => {
  const { call } = await master(t, 3);
  for (const [a, x] of [['a:1', 0], ['b:1', 50], ['c:1', 90], ['d:1', 10]] as const) await call({ command: 'heartbeat', address: a, location: [x, 0] });
  t.same(await call({ command: 'client_heartbeat', client_id: 'k' }), { status: 'error', message: 'bad_request: location (unknown client)' });
  t.same(await call({ command: 'register_client', client_id: 'k', location: [100, 0] }), { status: 'ok' });
  t.same(await call({ command: 'client_heartbeat', client_id: 'k' }), { status: 'ok' });
  t.same((await call({ command: 'get_chunk_servers', client_id: 'k' })).servers, ['c:1', 'b:1', 'd:1']);
  t.same((await call({ command: 'get_chunk_servers' })).servers, ['a:1', 'b:1', 'c:1', 'd:1']);
  t.same(await call({ command: 'get_replica_locations', excluding: 'c:1', client_id: 'k' }), { status: 'ok', locations: ['b:1', 'd:1'] }, 'factor - 1, best first');
  t.same(await call({ command: 'get_replica_locations' }), { status: 'ok', locations: ['a:1', 'b:1'] });
  const g = (await call({ command: 'get_graph_data' })).graph_data;
  t.equal((await call({ command: 'get_graph_data' })).status, 'ok');
  t.same(g.active_clients, ['k']);
  t.equal(g.nodes.length, 5);
  const one = await master(t, 1);
  await one.call({ command: 'heartbeat', address: 'a:1' });
  t.same(await one.call({ command: 'get_replica_locations' }), { status: 'ok', locations: [] }, 'factor 1: no copies');
});

t.test('decommission and cluster status', async (t) => {
  const { call, report } = await master(t);
  t.same(await call({ command: 'decommission_server', address: 'nobody:1' }), { status: 'error', message: MSG.unknownServer });
  await call({ command: 'add_file', file_path: '/f', total_size: 4, chunk_ids: ['c1'] });
  await report('a:1', [['c1', 4]]);
  await report('b:1', [['c1', 4]]);
  t.same(await call({ command: 'decommission_server', address: 'a:1' }), { status: 'error', message: 'decommission_refused: 1 other live server cannot hold replication_factor 2' }, 'it could never finish');
  t.same(await call({ command: 'decommission_server', address: 'a:1', force: true }), { status: 'ok', address: 'a:1', state: 'decommissioning', chunks_left: 1, eta_s: null });
  t.match(await call({ command: 'decommission_server', address: 'a:1' }), { status: 'ok', chunks_left: 1 }, 'once under way, asked again without force: its progress');
  const s = await call({ command: 'cluster_status' });
  t.equal(s.status, 'ok');
  t.equal(s.replication_factor, 2);
  t.same(s.servers.map((r: any) => [r.address, r.state, r.chunks, r.decommission_remaining ?? null]), [['a:1', 'decommissioning', 1, 1], ['b:1', 'live', 1, null]]);
  t.same(s.chunks, { total: 1, healthy: 0, under_replicated: 1, lost: 0, orphaned: 0, stale_replicas: 0, copies_in_flight: 0, deletes_pending: 0 });
  t.equal(s.files, 1);
  t.same(await call({ command: 'get_chunk_servers' }), { status: 'ok', servers: ['b:1'], decommissioning: ['a:1'] }, 'no new chunks for the server being emptied; named apart');
  t.same(await call({ command: 'get_replica_locations', excluding: [], client_id: null }), { status: 'ok', locations: ['b:1'] });
});

/** Resolves once Date.now() has moved on: the handlers stamp reports and raises with it. */
async function nextMs(): Promise<void> {
  const at = Date.now();
  while (Date.now() === at) await new Promise((r) => setImmediate(r));
}

t.test('a server back from the dead, by registration or by heartbeat, must report in full', async (t) => {
  const clock = { ms: 1_000_000 };
  const { call, report } = await master(t, 2, clock);
  await report('a:1', [['c1', 4]]);
  await report('b:1', [['c1', 4]]);
  clock.ms += 60_001;
  t.same(await call({ command: 'register_chunk_server', address: 'a:1' }), { status: 'ok' });
  t.same(await call({ command: 'heartbeat', address: 'a:1' }), { status: 'ok', report_wanted: true }, 'registered again after it was dead');
  t.same(await call({ command: 'heartbeat', address: 'b:1' }), { status: 'ok', report_wanted: true }, 'back by a heartbeat');
});

t.test('reports settle copies and deletes in flight', async (t) => {
  const { ctx, call, report } = await master(t);
  const status = async () => (await call({ command: 'cluster_status' })).chunks;
  await call({ command: 'add_file', file_path: '/f', total_size: 4, chunk_ids: ['c1'] });
  await report('a:1', [['c1', 4]]);
  await report('b:1', []);
  await ctx.repairer.pass();
  t.equal((await status()).copies_in_flight, 1);
  await report('b:1', [['c1', 4]]);
  t.equal((await status()).copies_in_flight, 0, 'a full report showing the copy');
  for (const [how, gone] of [
    ['a full report without it', () => report('a:1', [])],
    ['a change deleting it', () => call({ command: 'heartbeat', address: 'a:1', chunk_changes: [{ chunk_id: 'c1', deleted: true }] })],
    ['a corrupt report of it', () => call({ command: 'heartbeat', address: 'a:1', corrupt_chunks: ['c1'] })],
  ] as const) {
    await report('a:1', [['c1', 4]]);
    await call({ command: 'add_file', file_path: '/g', total_size: 0, chunk_ids: ['c1'] });
    await call({ command: 'delete_file', file_path: '/g' });
    await call({ command: 'delete_file', file_path: '/f' }).catch(() => undefined);
    await ctx.repairer.pass();
    t.ok((await status()).deletes_pending >= 1, `delete asked (${how})`);
    await call({ command: 'heartbeat', address: 'b:1', chunk_changes: [{ chunk_id: 'c1', deleted: true }] });
    await gone();
    t.equal((await status()).deletes_pending, 0, `settled by ${how}`);
  }
});

t.test('an empty heartbeat is a report: it proves a shorter copy stale', async (t) => {
  const { call, report } = await master(t, 1);
  await call({ command: 'add_file', file_path: '/f', total_size: 0, chunk_ids: ['c1'] });
  await report('a:1', [['c1', 4]]);
  await nextMs();
  await call({ command: 'update_chunk_offset', file_path: '/f', chunk_id: 'c1', offset: 9 });
  t.same((await call({ command: 'get_chunk_locations', file_path: '/f', chunk_id: 'c1' })).locations, ['a:1'], 'not proven stale yet: nothing better to offer');
  await nextMs();
  await call({ command: 'heartbeat', address: 'a:1' });
  t.same((await call({ command: 'get_chunk_locations', file_path: '/f', chunk_id: 'c1' })).locations, [], 'reported after the raise without the append: stale');
});

t.test('after a reference client\'s append, a report within the margin proves nothing', async (t) => {
  const { call, report } = await master(t, 1, { ms: Date.now() }, 60_000);
  await call({ command: 'add_file', file_path: '/f', total_size: 0, chunk_ids: ['c1'] });
  await report('a:1', [['c1', 4]]);
  await call({ command: 'update_chunk_offset', file_path: '/f', chunk_id: 'c1', offset: 9 });
  await nextMs();
  await call({ command: 'heartbeat', address: 'a:1' });
  t.same((await call({ command: 'get_chunk_locations', file_path: '/f', chunk_id: 'c1' })).locations, ['a:1'], 'its report may predate the append');
});

t.test('holders recorded before any report; chunks with none', async (t) => {
  const { ctx, call } = await master(t);
  await call({ command: 'heartbeat', address: 'a:1' });
  await ctx.ns.recordChunk('/f', 'c1', ['gone:1', 'a:1'], 4, 0, 0);
  t.same((await call({ command: 'get_chunk_locations', file_path: '/f', chunk_id: 'c1' })).locations, ['a:1', 'gone:1'], 'as recorded, live first (a restarted master)');
  t.same((await call({ command: 'get_file_metadata', file_path: '/f' })).metadata.chunk_locations, { c1: ['a:1', 'gone:1'] });
  await call({ command: 'add_file', file_path: '/e', total_size: 0, chunk_ids: ['n1'] });
  t.same((await call({ command: 'get_file_metadata', file_path: '/e' })).metadata.chunk_locations, { n1: [] });
  t.same((await call({ command: 'get_chunk_locations', file_path: '/e', chunk_id: 'n1' })).locations, []);
  t.same(await call({ command: 'update_file_metadata', file_path: '/e', chunk_id: 'n2', chunk_locations: [], chunk_size: 0 }), { status: 'ok' }, 'a chunk stored on no server');
});

t.test('decommission: a known server with no chunks, a forgotten one with chunks', async (t) => {
  const clock = { ms: 1_000_000 };
  const { ctx, call, report } = await master(t, 2, clock);
  await call({ command: 'register_chunk_server', address: 'empty:1' });
  t.match(await call({ command: 'decommission_server', address: 'empty:1', force: true }), { status: 'ok', chunks_left: 0, eta_s: 0 });
  await report('old:1', [['c1', 4]]);
  clock.ms += 60_001;
  ctx.nodes.sweep();
  t.equal(ctx.nodes.server('old:1'), undefined);
  t.match(await call({ command: 'decommission_server', address: 'old:1', force: true }), { status: 'ok' }, 'its chunks are still known');
});

t.test('forget_server: refused while the server beats or when unknown; a dead one leaves every list', async (t) => {
  const clock = { ms: Date.now() };
  const { call, report } = await master(t, 2, clock);
  await report('h:1', [['c1', 5]]);
  await report('h:2', []);
  t.same(await call({ command: 'forget_server', address: 'h:1' }), { status: 'error', message: MSG.serverLive });
  t.same(await call({ command: 'forget_server', address: 'h:9' }), { status: 'error', message: MSG.unknownServer });
  clock.ms += 120_000;
  await report('h:2', []);
  const rows = async () => ((await call({ command: 'cluster_status' })).servers as Array<{ address: string; state: string }>).map((s) => [s.address, s.state]).sort();
  t.same(await rows(), [['h:1', 'dead'], ['h:2', 'live']]);
  t.same(await call({ command: 'forget_server', address: 'h:1' }), { status: 'ok' });
  t.same(await rows(), [['h:2', 'live']], 'gone from cluster_status');
  t.match(await call({ command: 'cluster_status' }), { chunks: { total: 0 } }, 'its copies are forgotten with it');
});

t.test('update_chunk_offset never moves an end back: an earlier append\'s news arriving late changes nothing', async (t) => {
  const { ctx, call } = await master(t, 1);
  await call({ command: 'add_file', file_path: '/f', total_size: 0, chunk_ids: ['c1'] });
  // Two producers appended 4 then 4 more bytes; their updates arrive in the other order.
  await call({ command: 'update_chunk_offset', file_path: '/f', chunk_id: 'c1', offset: 8 });
  t.same(await call({ command: 'update_chunk_offset', file_path: '/f', chunk_id: 'c1', offset: 4, version: 2, chunk_locations: ['a:1'] }), { status: 'ok' });
  const meta = (await call({ command: 'get_file_metadata', file_path: '/f' })).metadata;
  t.same([meta.chunk_offsets.c1, meta.last_chunk_offset, meta.total_size], [8, 8, 8], 'readers still see the later record');
  t.equal(ctx.map.replicas('c1')?.get('a:1'), undefined, 'the late news names no holder');
});
