// The generic command registry: what it builds from command modules, and what it refuses to load.
import t from 'tap';
import { defineCommand, type Access } from '../../../src/commands/define.js';
import { MAX_BIN_BYTES } from '../../../src/commands/fields.js';
import { defineCommands } from '../../../src/commands/registry.js';
import { bytes, shape, str } from '../../../src/commands/shape.js';
import { chunkServerCommands } from '../../../src/chunk-server/commands/index.js';
import { masterCommands } from '../../../src/master/commands/index.js';

t.test('default-deny: a command without an access class does not load', async (t) => {
  const request = shape({});
  const handle = async () => ({ status: 'ok' });
  t.throws(() => defineCommand({ name: 'x', access: undefined as unknown as Access, request, handle }), { message: 'command x: no access class' });
  t.throws(() => defineCommand({ name: 'x', access: 'anyone' as Access, request, handle }), { message: 'command x: no access class' });
  const x = defineCommand({ name: 'x', access: 'read', request, handle });
  t.throws(() => defineCommands([x, x]), { message: 'command x defined twice' });
});

t.test('the streamed set and the policy come from the modules', async (t) => {
  const log = { error() {}, debug() {} } as never;
  const up = defineCommand({
    name: 'up',
    access: (f) => (f.as === 'member' ? 'member' : 'write'),
    sender: 'from',
    request: shape({ name: str({ maxBytes: 4 }), data: bytes({ maxBytes: MAX_BIN_BYTES, streamed: true }) }),
    handle: async (req, ctx: { log: never }) => ({ status: 'ok', name: req.name, command: req.command, log: ctx.log === log }),
  });
  const registry = defineCommands([up]);
  t.same(up.streamed, ['data']);
  t.ok(registry.takesSpilled('up'));
  t.notOk(registry.takesSpilled('down'));
  t.equal(registry.policy.access({ command: 'up' }), 'write');
  t.equal(registry.policy.access({ command: 'up', as: 'member' }), 'member');
  t.equal(registry.policy.access({ command: 'down' }), 'read', 'an unknown command is answered unknown_command, read as a read');
  t.equal(registry.policy.claimedSender({ command: 'up', from: 'h:1' }), 'h:1');
  t.same(await registry.dispatch({ command: 'up', name: 'abc', data: Buffer.from('x') }, { log }), { status: 'ok', name: 'abc', command: 'up', log: true });
  t.same(await registry.dispatch({ command: 'up', name: 'abcde', data: Buffer.from('x') }, { log }), { status: 'error', message: 'bad_request: name' }, 'a str over its bound');
});

t.test('the two servers: streamed fields and access classes as PROTOCOL.md tables them', async (t) => {
  t.same(chunkServerCommands.names.filter((c) => chunkServerCommands.takesSpilled(c)), ['store_chunk']);
  t.same(masterCommands.names.filter((c) => masterCommands.takesSpilled(c)), []);
  const access = (names: readonly string[], policy: { access(f: Record<string, unknown>): Access }) =>
    Object.fromEntries(names.map((command) => [command, policy.access({ command })]));
  t.same(access(chunkServerCommands.names, chunkServerCommands.policy), {
    store_chunk: 'write', retrieve_chunk: 'read', delete_chunk: 'write', check_space: 'read', prepare_chunk: 'write', commit_chunk: 'write',
    rollback_chunk: 'write', append_chunk: 'write', prepare_append: 'write', commit_append: 'write', rollback_append: 'write', replicate_chunk: 'write',
    record_append: 'write',
  });
  t.equal(chunkServerCommands.policy.access({ command: 'store_chunk', replica_servers: true }), 'member');
  t.equal(chunkServerCommands.policy.access({ command: 'store_chunk', replica_servers: [] }), 'write');
  t.equal(chunkServerCommands.policy.access({ command: 'append_chunk', replica_servers: ['a:1'] }), 'member');
  t.equal(chunkServerCommands.policy.access({ command: 'replicate_chunk', current_replica: 1 }), 'member');
  t.equal(chunkServerCommands.policy.access({ command: 'replicate_chunk', current_replica: 0 }), 'write');
  t.equal(chunkServerCommands.policy.claimedSender({ command: 'store_chunk', address: 'a:1' }), undefined);
  t.same(access(masterCommands.names, masterCommands.policy), {
    register_chunk_server: 'member', heartbeat: 'member', get_replica_locations: 'read', update_file_metadata: 'write', register_client: 'write',
    client_heartbeat: 'write', get_chunk_servers: 'read', get_file_metadata: 'read', get_chunk_locations: 'read', list_files: 'read', add_file: 'write',
    update_chunk_offset: 'write', get_graph_data: 'read', delete_file: 'write', decommission_server: 'write', cluster_status: 'read',
    rename_file: 'write',
    forget_server: 'write',
    report_corrupt_chunk: 'write',
    get_lease: 'member',
    allocate_chunk: 'write',
    master_status: 'read',
    create_file: 'write',
  });
  t.equal(masterCommands.policy.claimedSender({ command: 'heartbeat', address: 'a:1' }), 'a:1');
  t.equal(masterCommands.policy.claimedSender({ command: 'add_file', address: 'a:1' }), undefined);
});
