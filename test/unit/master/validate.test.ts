// The master's request validation (its command modules' shapes) called directly: each field's accepted shapes, defaults,
// and the exact bad_request message a client gets for a bad one.
import t from 'tap';
import { MSG } from '../../../src/errors.js';
import { masterCommands } from '../../../src/master/commands/index.js';

type Command = (typeof masterCommands.names)[number];
type Validators = { [N in Command]: (f: Record<string, unknown>) => ReturnType<typeof masterCommands.validate<N>> };
const v = Object.fromEntries(masterCommands.names.map((name) => [name, (f: Record<string, unknown>) => masterCommands.validate(name, f)])) as Validators;
/** The heartbeat's report fields, from a heartbeat that is otherwise fine. */
const reportFields = (f: Record<string, unknown>) => v.heartbeat({ address: 'h:1', ...f });

const bad = (why: string) => ({ message: `bad_request: ${why}` });
const D = 'ab12';
const entry = (o: Record<string, unknown> = {}) => ({ chunk_id: 'c1', length: 10, version: 2, digest: D, ...o });

t.test('addresses and locations of chunk servers', async (t) => {
  t.same(v.register_chunk_server({ address: 'h:1' }), { command: 'register_chunk_server', address: 'h:1', location: null });
  t.same(v.register_chunk_server({ address: 'host.example:65535', location: [1.5, 2] }).location, [1.5, 2]);
  t.same(v.register_chunk_server({ address: 'h:1', location: null }).location, null, 'nil location: none');
  t.throws(() => v.register_chunk_server({ address: 'h:123456' }), bad('address'), 'more than five port digits');
  t.throws(() => v.register_chunk_server({ address: ':1' }), bad('address'), 'no host');
  t.throws(() => v.register_chunk_server({ address: 'h:' }), bad('address'), 'no port');
  t.throws(() => v.register_chunk_server({ address: 'x h:1\n' }), bad('address'), 'anchored at the end');
  t.throws(() => v.register_chunk_server({ address: 'h:1x' }), bad('address'), 'anchored at the end');
  t.throws(() => v.register_chunk_server({ address: 7 }), bad('address'));
  t.throws(() => v.register_chunk_server({}), bad('address'));
  for (const location of [[1], [1, 2, 3], 'here', [1, 'y'], ['x', 1], [Infinity, 1], [1, NaN], { 0: 1, 1: 2 }]) {
    t.throws(() => v.register_chunk_server({ address: 'h:1', location }), bad('location'), JSON.stringify(location));
  }
});

t.test('heartbeat: space, corrupt chunks, reports', async (t) => {
  const hb = v.heartbeat({ address: 'h:1' });
  t.same(hb, { command: 'heartbeat', address: 'h:1', location: null, space_info: null, corrupt_chunks: [], chunk_report: null, chunk_changes: [], failed_copies: [] });
  const full = v.heartbeat({ address: 'h:1', location: [0, 0], space_info: { total: 10, used: 3, extra: 1 }, corrupt_chunks: ['a', 'b'] });
  t.same(full.space_info, { total: 10, used: 3 }, 'only total and used are kept');
  t.same(full.corrupt_chunks, ['a', 'b']);
  t.same(v.heartbeat({ address: 'h:1', space_info: null, corrupt_chunks: null }).space_info, null);
  for (const space_info of ['10', [10, 3], Buffer.from('x'), 5]) t.throws(() => v.heartbeat({ address: 'h:1', space_info }), bad('space_info'));
  t.throws(() => v.heartbeat({ address: 'h:1', space_info: { total: 10 } }), bad('used'));
  t.throws(() => v.heartbeat({ address: 'h:1', space_info: { used: 1 } }), bad('total'));
  t.throws(() => v.heartbeat({ address: 'h:1', corrupt_chunks: 'a' }), bad('corrupt_chunks'));
});

t.test('chunk reports, changes and failed copies', async (t) => {
  t.same(reportFields({ chunk_report: [entry(), entry({ chunk_id: 'c2', version: undefined })] }).chunk_report, [
    { chunk_id: 'c1', length: 10, version: 2, digest: D },
    { chunk_id: 'c2', length: 10, version: 0, digest: D },
  ], 'version defaults to 0');
  t.same(reportFields({ chunk_report: [entry({ length: 0 }), entry({ length: 2 ** 32 })] }).chunk_report!.map((c) => c.length), [0, 2 ** 32], 'bounds are inclusive');
  t.same(reportFields({ chunk_report: [] }).chunk_report, [], 'an empty report is a report');
  t.same(reportFields({ chunk_report: null }).chunk_report, null);
  t.throws(() => reportFields({ chunk_report: 'x' }), bad('chunk_report'));
  const cases: [Record<string, unknown>, string][] = [
    [{ chunk_id: 5 }, 'chunk_report chunk_id'],
    [{ chunk_id: '../x' }, 'chunk_report chunk_id'],
    [{ length: -1 }, 'chunk_report length'],
    [{ length: 2 ** 32 + 1 }, 'chunk_report length'],
    [{ length: 1.5 }, 'chunk_report length'],
    [{ length: '10' }, 'chunk_report length'],
    [{ version: -1 }, 'chunk_report version'],
    [{ version: 0.5 }, 'chunk_report version'],
    [{ version: '1' }, 'chunk_report version'],
    [{ digest: 'XYZ' }, 'chunk_report digest'],
    [{ digest: '' }, 'chunk_report digest'],
    [{ digest: 'a'.repeat(129) }, 'chunk_report digest'],
    [{ digest: ' ab' }, 'chunk_report digest'],
    [{ digest: 'ab ' }, 'chunk_report digest'],
    [{ digest: 12 }, 'chunk_report digest'],
  ];
  for (const [o, why] of cases) t.throws(() => reportFields({ chunk_report: [entry(o)] }), bad(why), JSON.stringify(o));
  t.same(reportFields({ chunk_report: [entry({ digest: 'f'.repeat(128) })] }).chunk_report![0]!.digest, 'f'.repeat(128));
  for (const e of ['x', null, [entry()], Buffer.from('x')]) t.throws(() => reportFields({ chunk_report: [e] }), bad('chunk_report'));

  t.same(reportFields({ chunk_changes: [entry(), { chunk_id: 'c3', deleted: true }] }).chunk_changes, [
    { chunk_id: 'c1', length: 10, version: 2, digest: D },
    { chunk_id: 'c3', deleted: true },
  ]);
  t.throws(() => reportFields({ chunk_changes: [{ chunk_id: '../x', deleted: true }] }), { message: MSG.invalidChunkId });
  t.throws(() => reportFields({ chunk_changes: [{ chunk_id: 'c3', deleted: 'yes' }] }), bad('chunk_changes length'), 'deleted must be true, else it is a summary');
  t.throws(() => reportFields({ chunk_changes: [entry({ length: -1 })] }), bad('chunk_changes length'));
  t.throws(() => reportFields({ chunk_changes: {} }), bad('chunk_changes'));
  t.same(reportFields({ chunk_changes: null }).chunk_changes, []);

  t.same(reportFields({ failed_copies: [{ chunk_id: 'c1', target: 't:1' }] }).failed_copies, [{ chunk_id: 'c1', target: 't:1' }]);
  t.throws(() => reportFields({ failed_copies: [{ chunk_id: 'c1', target: 'nowhere' }] }), bad('target'));
  t.throws(() => reportFields({ failed_copies: ['c1'] }), bad('failed_copies'));
  t.same(reportFields({ failed_copies: null }).failed_copies, []);
});

t.test('lists are bounded', async (t) => {
  const many = new Array(1_000_001).fill({ chunk_id: 'c1', target: 't:1' });
  t.throws(() => reportFields({ failed_copies: many }), bad('failed_copies'));
  t.equal(reportFields({ failed_copies: many.slice(1) }).failed_copies.length, 1_000_000);
});

t.test('clients and placement', async (t) => {
  t.same(v.get_replica_locations({}), { command: 'get_replica_locations', excluding: new Set(), client_id: null });
  t.same(v.get_replica_locations({ excluding: null, client_id: null }).excluding, new Set());
  t.same(v.get_replica_locations({ excluding: 'h:1', client_id: 'c' }), { command: 'get_replica_locations', excluding: new Set(['h:1']), client_id: 'c' });
  t.same(v.get_replica_locations({ excluding: ['a:1', 'b:1'] }).excluding, new Set(['a:1', 'b:1']));
  t.throws(() => v.get_replica_locations({ excluding: [1] }), bad('excluding'));
  t.throws(() => v.get_replica_locations({ client_id: 3 }), bad('client_id'));
  t.same(v.register_client({ client_id: 'c', location: [1, 2] }), { command: 'register_client', client_id: 'c', location: [1, 2] });
  t.throws(() => v.register_client({ client_id: 'c' }), bad('location'), 'a client must say where it is');
  t.throws(() => v.register_client({ location: [1, 2] }), bad('client_id'));
  t.same(v.client_heartbeat({ client_id: 'c' }), { command: 'client_heartbeat', client_id: 'c', location: null });
  t.same(v.client_heartbeat({ client_id: 'c', location: [3, 4] }).location, [3, 4]);
  t.same(v.get_chunk_servers({}), { command: 'get_chunk_servers', client_id: null });
  t.same(v.get_chunk_servers({ client_id: 'c' }).client_id, 'c');
  t.same(v.get_graph_data({}), { command: 'get_graph_data' });
  t.same(v.cluster_status({}), { command: 'cluster_status' });
  t.same(v.list_files({}), { command: 'list_files' });
  t.same(v.decommission_server({ address: 'h:1' }), { command: 'decommission_server', address: 'h:1', force: false });
  t.same(v.decommission_server({ address: 'h:1', force: true }), { command: 'decommission_server', address: 'h:1', force: true });
  t.throws(() => v.decommission_server({ address: 'h:1', force: 1 }), bad('force'));
  t.throws(() => v.decommission_server({ address: 'h' }), bad('address'));
});

t.test('files', async (t) => {
  t.same(v.update_file_metadata({ file_path: 'f', chunk_id: 'c1', chunk_locations: ['a:1'] }), {
    command: 'update_file_metadata',
    file_path: 'f',
    chunk_id: 'c1',
    chunk_locations: ['a:1'],
    chunk_size: 0,
    chunk_index: null,
    pending_replication: false,
    version: 0,
  }, 'defaults');
  const full = v.update_file_metadata({ file_path: 'f', chunk_id: 'c1', chunk_locations: [], chunk_size: 5, chunk_index: 2, pending_replication: true, version: 3 });
  t.same([full.chunk_size, full.chunk_index, full.pending_replication, full.version], [5, 2, true, 3]);
  t.equal(v.update_file_metadata({ file_path: 'f', chunk_id: 'c1', chunk_locations: [], pending_replication: false, chunk_size: null }).pending_replication, false);
  t.equal(v.update_file_metadata({ file_path: 'f', chunk_id: 'c1', chunk_locations: [], pending_replication: null }).pending_replication, false);
  t.throws(() => v.update_file_metadata({ file_path: 'f', chunk_id: 'c1', chunk_locations: [], pending_replication: 1 }), bad('pending_replication'));
  t.throws(() => v.update_file_metadata({ file_path: 'f', chunk_id: 'c1', chunk_locations: ['a:1', 'nope'] }), bad('chunk_locations'));
  t.throws(() => v.update_file_metadata({ file_path: 'f', chunk_id: 'c1', chunk_locations: [], chunk_size: -1 }), bad('chunk_size'));
  t.throws(() => v.update_file_metadata({ file_path: 'f', chunk_id: '..', chunk_locations: [] }), { message: MSG.invalidChunkId });
  t.throws(() => v.update_file_metadata({ chunk_id: 'c1', chunk_locations: [] }), bad('file_path'));

  t.same(v.add_file({ file_path: '/f', total_size: 3, chunk_ids: ['a', 'b'] }), { command: 'add_file', file_path: '/f', total_size: 3, chunk_ids: ['a', 'b'] });
  t.throws(() => v.add_file({ file_path: '/f', total_size: 3, chunk_ids: ['a', '../b'] }), { message: MSG.invalidChunkId });
  t.throws(() => v.add_file({ file_path: '/f', chunk_ids: [] }), bad('total_size'));

  t.same(v.update_chunk_offset({ file_path: 'f', chunk_id: 'c1', offset: 9 }), { command: 'update_chunk_offset', file_path: 'f', chunk_id: 'c1', offset: 9, version: 0, chunk_locations: null });
  const off = v.update_chunk_offset({ file_path: 'f', chunk_id: 'c1', offset: 9, version: 4, chunk_locations: ['a:1'] });
  t.same([off.version, off.chunk_locations], [4, ['a:1']]);
  t.throws(() => v.update_chunk_offset({ file_path: 'f', chunk_id: 'c1', offset: 9, chunk_locations: ['x'] }), bad('chunk_locations'));
  t.throws(() => v.update_chunk_offset({ file_path: 'f', chunk_id: 'c1' }), bad('offset'));

  t.same(v.get_file_metadata({ file_path: 'f' }), { command: 'get_file_metadata', file_path: 'f', read_checks: false });
  t.same(v.get_chunk_locations({ file_path: 'f', chunk_id: 'c1' }), { command: 'get_chunk_locations', file_path: 'f', chunk_id: 'c1' });
  t.same(v.delete_file({ file_path: 'f' }), { command: 'delete_file', file_path: 'f' });
  t.throws(() => v.delete_file({}), bad('file_path'));
});

t.test("a chunk id the namespace could not keep is refused: __proto__ would come back from lmdb renamed", async (t) => {
  t.throws(() => v.add_file({ file_path: '/f', total_size: 0, chunk_ids: ['ok1', '__proto__'] }), { message: MSG.invalidChunkId });
  t.throws(() => v.get_chunk_locations({ file_path: '/f', chunk_id: '__proto__' }), { message: MSG.invalidChunkId });
  t.same(v.add_file({ file_path: '/f', total_size: 0, chunk_ids: ['__proto_', 'proto__'] }).chunk_ids, ['__proto_', 'proto__'], 'its neighbours are ordinary ids');
});

t.test('add_file holds a new name to the path rule; reads and deletes take any name', async (t) => {
  for (const [path, why] of [['rel/a.txt', 'not absolute'], ['/media/', 'trailing slash'], ['/a//b', 'empty segment'], ['/a/./b', '. or .. segment'], ['/a/..', '. or .. segment'], ['/', 'the root is a folder'], ['', 'empty']]) {
    t.throws(() => v.add_file({ file_path: path, total_size: 0, chunk_ids: [] }), { message: `invalid_path: ${why}` }, path);
  }
  t.throws(() => v.add_file({ file_path: 7, total_size: 0, chunk_ids: [] }), bad('file_path'), 'no str: the usual bad_request');
  t.same(v.get_file_metadata({ file_path: 'rel/a.txt' }), { command: 'get_file_metadata', file_path: 'rel/a.txt', read_checks: false }, 'a legacy name stays readable');
  t.same(v.delete_file({ file_path: '/media/' }), { command: 'delete_file', file_path: '/media/' }, 'and deletable');
});
