// create_file (issue 23 item 5) on an in-process master: the file and its one chunk in one
// step, placed on live servers, at length 0 until the primary reports the store; taken names
// refused unless overwritten; a chunk already known sends the client the classic way.
import t from 'tap';
import { call } from '../../../support/frames.js';
import { startMasterHere } from '../../../support/in-process.js';
import { tempDir } from '../../../support/temp.js';

const ID = 'a'.repeat(64);
const OTHER = 'b'.repeat(64);

t.test('create_file', async (t) => {
  const master = await startMasterHere(t, await tempDir(t), { deadAfterS: 120 });
  const ask = (body: Record<string, unknown>) => call(master.port, body);
  for (const address of ['127.0.0.1:1', '127.0.0.1:2', '127.0.0.1:3', '127.0.0.1:4']) {
    await ask({ command: 'heartbeat', address, location: [1, 1], space_info: { total: 1 << 30, used: 0 } });
  }
  const made = await ask({ command: 'create_file', file_path: '/s/a', chunk_id: ID });
  t.match(made, { status: 'ok', created: true, chunk_id: ID, replication_factor: 3 });
  t.equal(new Set(made.locations).size, 3, 'three distinct live servers');
  const meta = (await ask({ command: 'get_file_metadata', file_path: '/s/a' })).metadata;
  t.match(meta, { chunk_ids: [ID], total_size: 0, chunk_offsets: { [ID]: 0 } }, 'empty until the store is reported');

  t.same(await ask({ command: 'create_file', file_path: '/s/a', chunk_id: OTHER }), { status: 'error', message: 'file_exists' });
  t.same(await ask({ command: 'create_file', file_path: '/s/b', chunk_id: ID }), { status: 'ok', created: false }, 'bytes another file holds: the classic put');
  t.equal((await ask({ command: 'get_file_metadata', file_path: '/s/b' })).metadata, null, 'and nothing created');

  await ask({ command: 'update_file_metadata', file_path: '/s/a', chunk_id: ID, chunk_locations: made.locations, chunk_size: 4096, chunk_index: 0, pending_replication: false });
  t.match((await ask({ command: 'get_file_metadata', file_path: '/s/a' })).metadata, { chunk_ids: [ID], total_size: 4096 }, 'the primary\'s report completes it in place');
  const checked = await ask({ command: 'get_file_metadata', file_path: '/s/a', read_checks: true });
  t.match(checked.checks, { [ID]: { version: Number, digests: Array } }, 'read_checks: each chunk\'s check beside the metadata');
  t.notOk('checks' in (await ask({ command: 'get_file_metadata', file_path: '/s/a' })), 'not without asking (the reference never does)');

  t.match(await ask({ command: 'create_file', file_path: '/s/a', chunk_id: OTHER, overwrite: true }), { status: 'ok', created: true });
  t.match((await ask({ command: 'get_file_metadata', file_path: '/s/a' })).metadata, { chunk_ids: [OTHER], total_size: 0 }, 'overwrite replaces the file');
  t.match(await ask({ command: 'create_file', file_path: 'no-slash', chunk_id: OTHER }), { status: 'error', message: /^invalid_path/ });
});

t.test('create_file with no live server: insufficient_space', async (t) => {
  const master = await startMasterHere(t, await tempDir(t));
  t.match(await call(master.port, { command: 'create_file', file_path: '/s/a', chunk_id: ID }), { status: 'error', message: 'insufficient_space' });
});
