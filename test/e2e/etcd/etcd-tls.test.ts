// A real etcd member that speaks TLS only and asks for client certificates (--client-cert-auth),
// with etcd's user auth switched on, and masters that reach it through [master] etcd_ca_file,
// etcd_cert_file/etcd_key_file and etcd_username/etcd_password_file. The right settings lead
// and serve a write and its read-back (by a second master with an empty namespace, which gets
// it from etcd); a master given a foreign CA, a client certificate etcd refuses, or the wrong
// password logs why and never leads.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import t from 'tap';
import { certFiles, makeCerts, type CertFiles } from '../../support/certs.js';
import { freePort, masterToml, writeToml } from '../../support/configs.js';
import { ETCD_BIN } from '../../support/etcd.js';
import { call } from '../../support/frames.js';
import { spawnMaster, type ChildServer } from '../../support/processes.js';
import { tempDir, type Teardown } from '../../support/temp.js';
import { DEADLINE_MS, logged, waitUntil } from '../../support/waits.js';

const TTL_S = 2;

/** A client of the member with `files`' CA and certificate (no etcd user). */
function adminClient(url: string, files: CertFiles): Etcd3 {
  return new Etcd3({
    hosts: [url],
    credentials: { rootCertificate: readFileSync(files.ca), certChain: readFileSync(files.cert), privateKey: readFileSync(files.key) },
    defaultCallOptions: () => ({ deadline: Date.now() + 2000 }),
  });
}

/** One etcd member, clients over TLS only, client certificates required; resolves with its client URL once it answers. */
async function startTlsEtcd(t: Teardown, dir: string, server: CertFiles, admin: CertFiles): Promise<string> {
  const [client, peer] = [await freePort(), await freePort()];
  const url = `https://127.0.0.1:${client}`;
  const proc = spawn(ETCD_BIN, [
    '--name', 'e1', '--data-dir', join(dir, 'etcd'),
    '--listen-client-urls', url, '--advertise-client-urls', url,
    '--listen-peer-urls', `http://127.0.0.1:${peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`,
    '--initial-cluster', `e1=http://127.0.0.1:${peer}`, '--initial-cluster-state', 'new',
    '--cert-file', server.cert, '--key-file', server.key, '--trusted-ca-file', server.ca, '--client-cert-auth',
    '--log-level', 'warn',
  ], { stdio: ['ignore', 'ignore', 'ignore'] });
  t.teardown(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
  const probe = adminClient(url, admin);
  await waitUntil(`etcd at ${url}`, () => probe.get('probe').string().then(() => true, () => false), DEADLINE_MS, 200);
  probe.close();
  return url;
}

/** Leading: it answers a request that follows not_leader itself. */
async function leads(m: ChildServer): Promise<boolean> {
  return (await call(m.port, { command: 'list_files', follows_leader: true }).catch(() => null))?.status === 'ok';
}

t.test('masters reach an etcd that wants TLS client certificates and a password; a foreign CA, a refused certificate or a wrong password is logged and never leads', async (t) => {
  const dir = await tempDir(t);
  const certs = join(dir, 'certs');
  const foreign = join(dir, 'foreign');
  await makeCerts(certs, ['etcd', 'master', 'admin']);
  await makeCerts(foreign, ['other']);
  const url = await startTlsEtcd(t, dir, certFiles(certs, 'etcd'), certFiles(certs, 'admin'));

  const admin = adminClient(url, certFiles(certs, 'admin'));
  await admin.user('root').create('root-pw');
  await admin.user('root').addRole('root');
  await admin.auth.authEnable();
  admin.close();

  await writeFile(join(dir, 'password'), 'root-pw\n');
  await writeFile(join(dir, 'wrong-password'), 'not-it\n');
  const master = certFiles(certs, 'master');
  const config = async (name: string, ca: string, passwordFile: string, client = master) =>
    writeToml(dir, `${name}.toml`, masterToml({
      extra: [
        `etcd_endpoints = ["${url}"]`, 'etcd_prefix = "/tls"', `etcd_lease_ttl_s = ${TTL_S}`, 'etcd_safe_mode_s = 1',
        `etcd_ca_file = "${ca}"`, `etcd_cert_file = "${client.cert}"`, `etcd_key_file = "${client.key}"`,
        'etcd_username = "root"', `etcd_password_file = "${passwordFile}"`, '',
      ].join('\n'),
    }));
  const start = async (name: string, toml: string) => spawnMaster(t, ['--config', toml, '--port', '0', '--namespace', join(dir, name), '--metadata', join(dir, `${name}.json`)], dir);

  // The failing three first, while no one leads: nothing but their settings keeps them from it.
  const badCa = await start('bad-ca', await config('bad-ca', join(foreign, 'ca.pem'), join(dir, 'password')));
  const badPw = await start('bad-pw', await config('bad-pw', master.ca, join(dir, 'wrong-password')));
  const badCert = await start('bad-cert', await config('bad-cert', master.ca, join(dir, 'password'), certFiles(foreign, 'other')));
  t.ok(await logged(badCert.stdout, /"reason":"[^"]*bad certificate[^"]*","msg":"TLS to etcd failed/), 'a client certificate etcd refuses: logged with the reason');
  t.ok(await logged(badCa.stdout, /"reason":"[^"]*certificate[^"]*","msg":"TLS to etcd failed/), 'a foreign CA: the log says the certificate did not verify');
  t.ok(await logged(badPw.stdout, /authentication failed, invalid user ID or password","msg":"etcd leadership tick failed/), 'a wrong password: the log says authentication failed');
  t.match(await call(badCa.port, { command: 'list_files', follows_leader: true }), { status: 'error', message: 'not_leader' }, 'the foreign-CA master does not lead');
  t.match(await call(badPw.port, { command: 'list_files', follows_leader: true }), { status: 'error', message: 'not_leader' }, 'the wrong-password master does not lead');

  const good = await config('good', master.ca, join(dir, 'password'));
  const first = await start('first', good);
  await waitUntil('the master with the right settings to lead', () => leads(first));
  t.match(await call(first.port, { command: 'add_file', file_path: '/over-tls', total_size: 7, chunk_ids: [], follows_leader: true }), { status: 'ok' }, 'a write is committed to etcd');
  first.proc.kill('SIGTERM');
  await first.exited;

  // A new master with an empty namespace gets the file only from etcd's journal.
  const second = await start('second', good);
  await waitUntil('the second master to lead', () => leads(second));
  t.same((await call(second.port, { command: 'list_files', follows_leader: true })).files, ['/over-tls'], 'read back through etcd over TLS with the password');
  t.notOk(await leads(badCa), 'the foreign-CA master still does not lead');
  t.notOk(await leads(badPw), 'the wrong-password master still does not lead');
  t.notOk(await leads(badCert), 'the master with a refused certificate does not lead');
});
