// A master over a three-member etcd: one member lost, the majority left keeps it writing;
// a second lost, writes stop with a clear error and nothing is acknowledged.
import { join } from 'node:path';
import t from 'tap';
import { masterToml, writeToml } from '../../support/configs.js';
import { startEtcd } from '../../support/etcd.js';
import { call } from '../../support/frames.js';
import { spawnMaster } from '../../support/processes.js';
import { tempDir } from '../../support/temp.js';
import { waitUntil } from '../../support/waits.js';

const add = (path: string) => ({ command: 'add_file', file_path: path, total_size: 1, chunk_ids: [] });

t.test('a majority of etcd keeps the master writing; a minority stops writes', async (t) => {
  const dir = await tempDir(t);
  const etcd = await startEtcd(t, dir, 3);
  const config = await writeToml(dir, 'master.toml', masterToml({ extra: `etcd_endpoints = ${etcd.toml}\netcd_prefix = "/members"\netcd_lease_ttl_s = 2\n` }));
  const m = await spawnMaster(t, ['--config', config, '--port', '0', '--namespace', join(dir, 'ns'), '--metadata', join(dir, 'meta.json')], dir);
  await waitUntil('the master to lead', async () => (await call(m.port, { command: 'list_files' })).status === 'ok');
  t.equal((await call(m.port, add('/three'))).status, 'ok', 'three members');

  etcd.members[2]!.proc.kill('SIGKILL');
  await waitUntil('a write with two members of three', async () => (await call(m.port, add('/two'))).status === 'ok');
  t.pass('a majority left keeps the master writing');

  etcd.members[1]!.proc.kill('SIGKILL');
  const refused = await call(m.port, add('/one'));
  t.equal(refused.status, 'error', 'with one member of three, a write is refused');
  t.match(refused.message, /^(etcd_unavailable|not_leader)$/, `a clear error: ${String(refused.message)}`);
  const files = await call(m.port, { command: 'list_files' });
  t.ok(files.status === 'error' || !(files.files as string[]).includes('/one'), 'the refused write is not in the namespace');
});
