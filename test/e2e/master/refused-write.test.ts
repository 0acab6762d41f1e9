// Issue 21 item 2: a namespace write that the store refuses leaves no trace. A real master
// whose store fails every commit (the MASTER_FAIL_AT fail point) answers the documented
// error, lists, serves and counts nothing of the refused write, and goes on serving; a
// path past lmdb's key limit is refused by the request's shape before anything changes.
import t from 'tap';
import { freePort, masterToml, writeToml } from '../../support/configs.js';
import { call } from '../../support/frames.js';
import { spawnMaster } from '../../support/processes.js';
import { tempDir } from '../../support/temp.js';

async function metric(httpPort: number, name: string): Promise<string> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  return text.split('\n').find((l) => l.startsWith(`${name} `)) ?? `${name} missing`;
}

t.test('with every commit failing: internal_error, and nothing of the write shows', async (t) => {
  const dir = await tempDir(t);
  const web = await freePort();
  const args = ['--config', await writeToml(dir, 'm.toml', masterToml()), '--port', '0', '--metadata', 'meta.json', '--http_port', String(web)];
  const master = await spawnMaster(t, args, dir, { env: { MASTER_FAIL_AT: 'namespace.commit' } });
  const refused = [
    { command: 'add_file', file_path: '/a', total_size: 10, chunk_ids: ['c1'] },
    { command: 'update_file_metadata', file_path: '/b', chunk_id: 'c2', chunk_locations: ['127.0.0.1:7001'], chunk_size: 10 },
  ];
  for (const req of refused) t.same(await call(master.port, req), { status: 'error', message: 'internal_error' }, req.command);
  t.same(await call(master.port, { command: 'list_files' }), { status: 'ok', files: [] }, 'not listed');
  for (const path of ['/a', '/b']) t.same(await call(master.port, { command: 'get_file_metadata', file_path: path }), { status: 'ok', metadata: null }, `${path} not served`);
  t.match(await call(master.port, { command: 'cluster_status' }), { status: 'ok', files: 0 }, 'not counted');
  t.equal(await metric(web, 'master_files'), 'master_files 0', 'not in the metrics');
  t.equal(master.proc.exitCode, null, 'the master lives');
});

t.test('a path past the store key limit is bad_request, and leaves nothing', async (t) => {
  const dir = await tempDir(t);
  const args = ['--config', await writeToml(dir, 'm.toml', masterToml()), '--port', '0', '--metadata', 'meta.json'];
  const master = await spawnMaster(t, args, dir);
  const long = `/${'x'.repeat(2102)}`;
  t.same(await call(master.port, { command: 'add_file', file_path: long, total_size: 10, chunk_ids: ['c1'] }), { status: 'error', message: 'bad_request: file_path' });
  t.same(await call(master.port, { command: 'list_files' }), { status: 'ok', files: [] });
  t.same(await call(master.port, { command: 'get_file_metadata', file_path: long }), { status: 'error', message: 'bad_request: file_path' });
  t.match(await call(master.port, { command: 'cluster_status' }), { status: 'ok', files: 0 });
  t.same(await call(master.port, { command: 'add_file', file_path: '/ok', total_size: 0, chunk_ids: [] }), { status: 'ok' }, 'the master goes on');
  t.same(await call(master.port, { command: 'list_files' }), { status: 'ok', files: ['/ok'] });
});
