// [master] etcd TLS and auth keys: checked together at start-up, files read, and handed to
// the etcd3 client as credentials and auth.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { ConfigError } from '../../../src/config/checks.js';
import { etcdAccessOf } from '../../../src/config/etcd-access.js';
import { resolveMasterConfig } from '../../../src/config/master.js';
import { certFiles, makeCerts } from '../../support/certs.js';
import { tempDir } from '../../support/temp.js';

const HTTPS = ['https://127.0.0.1:2379', 'https://127.0.0.1:2380'];

t.test('TLS files and the password file reach the etcd3 options', async (t) => {
  const dir = await tempDir(t);
  await makeCerts(dir, ['master']);
  const f = certFiles(dir, 'master');
  await writeFile(join(dir, 'pw'), 's3cret\n');
  const config = resolveMasterConfig({ master: { etcd_endpoints: HTTPS, etcd_ca_file: f.ca, etcd_cert_file: f.cert, etcd_key_file: f.key, etcd_username: 'gfs', etcd_password_file: join(dir, 'pw') } }, {});
  const access = etcdAccessOf(config);
  t.match(access.credentials?.rootCertificate.toString(), /BEGIN CERTIFICATE/, 'the CA file');
  t.match(access.credentials?.certChain?.toString(), /BEGIN CERTIFICATE/, 'the client certificate');
  t.match(access.credentials?.privateKey?.toString(), /PRIVATE KEY/, 'its key');
  t.same(access.auth, { username: 'gfs', password: 's3cret' }, 'the password without its trailing newline');
});

t.test('https:// without a CA file uses the system CAs; plain http:// gets no credentials', async (t) => {
  t.same(etcdAccessOf(resolveMasterConfig({ master: { etcd_endpoints: HTTPS } }, {})), {}, 'etcd3 picks TLS with the system CAs from https://');
  t.same(etcdAccessOf(resolveMasterConfig({ master: { etcd_endpoints: ['http://127.0.0.1:2379'] } }, {})), {});
  const dir = await tempDir(t);
  await makeCerts(dir, ['master']);
  const f = certFiles(dir, 'master');
  const access = etcdAccessOf(resolveMasterConfig({ master: { etcd_endpoints: HTTPS, etcd_cert_file: f.cert, etcd_key_file: f.key } }, {}));
  t.ok((access.credentials?.rootCertificate.length ?? 0) > 10_000, 'a client certificate alone verifies etcd against the system CAs');
});

t.test('wrong settings stop the master at start-up with a message naming the key', async (t) => {
  const dir = await tempDir(t);
  await makeCerts(dir, ['master']);
  const f = certFiles(dir, 'master');
  await writeFile(join(dir, 'empty'), '\n');
  await writeFile(join(dir, 'garbage.pem'), 'not a certificate\n');
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ etcd_endpoints: HTTPS, etcd_ca_file: join(dir, 'missing.pem') }, /^\[master\] etcd_ca_file: no such file .*missing\.pem$/],
    [{ etcd_endpoints: HTTPS, etcd_ca_file: dir }, /etcd_ca_file: .* is not a file/],
    [{ etcd_endpoints: HTTPS, etcd_cert_file: f.cert }, /etcd_cert_file and etcd_key_file go together/],
    [{ etcd_endpoints: HTTPS, etcd_key_file: f.key }, /etcd_cert_file and etcd_key_file go together/],
    [{ etcd_endpoints: HTTPS, etcd_username: 'gfs' }, /etcd_username and etcd_password_file go together/],
    [{ etcd_endpoints: HTTPS, etcd_password_file: join(dir, 'empty') }, /etcd_username and etcd_password_file go together/],
    [{ etcd_endpoints: HTTPS, etcd_username: 'gfs', etcd_password_file: join(dir, 'nope') }, /etcd_password_file: no such file/],
    [{ etcd_endpoints: HTTPS, etcd_username: 'gfs', etcd_password_file: join(dir, 'empty') }, /etcd_password_file: .*empty.* is empty/],
    [{ etcd_endpoints: ['http://127.0.0.1:2379'], etcd_ca_file: f.ca }, /need https:\/\/ etcd_endpoints/],
    [{ etcd_endpoints: ['https://127.0.0.1:2379', 'http://127.0.0.1:2380'] }, /all https:\/\/ or all http:\/\//],
    [{ etcd_endpoints: HTTPS, etcd_ca_file: join(dir, 'garbage.pem') }, /etcd_ca_file \/ etcd_cert_file \/ etcd_key_file: /],
    [{ etcd_endpoints: HTTPS, etcd_cert_file: f.cert, etcd_key_file: f.ca }, /etcd_ca_file \/ etcd_cert_file \/ etcd_key_file: /],
  ];
  for (const [master, message] of cases) t.throws(() => resolveMasterConfig({ master }, {}), { constructor: ConfigError, message }, message.source);
});
