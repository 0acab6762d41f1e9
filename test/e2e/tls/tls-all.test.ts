// tls = "all" on real processes: every port refuses plain TCP with a reply saying so and a
// log line; gfs speaks TLS with --tls_ca; certificates are re-read when their files change.
import { randomBytes } from 'node:crypto';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { certFiles, makeCerts, tlsToml } from '../../support/certs.js';
import { spawnChunk } from '../../support/cluster.js';
import { chunkToml, masterToml, writeToml } from '../../support/configs.js';
import { call, Client } from '../../support/frames.js';
import { runGfs, spawnMaster } from '../../support/processes.js';
import { tempDir } from '../../support/temp.js';
import { waitUntil } from '../../support/waits.js';

const MEMBERS = ['master', 's1', 's2'];

t.test('every port speaks TLS only', async (t) => {
  const dir = await tempDir(t);
  const certs = join(dir, 'certs');
  await makeCerts(certs, MEMBERS);
  const config = (name: string): Promise<string> =>
    writeToml(dir, `${name}.toml`, `${masterToml()}replication_factor = 2\n${chunkToml()}${tlsToml('all', certFiles(certs, name), MEMBERS)}`);
  const master = await spawnMaster(t, ['--config', await config('master'), '--port', '0', '--metadata', 'meta.json'], dir);
  const s1 = await spawnChunk(t, dir, { id: 's1', master: master.port, config: await config('s1'), x: 1, y: 1 });
  const s2 = await spawnChunk(t, dir, { id: 's2', master: master.port, config: await config('s2'), x: 2, y: 2 });
  const ca = join(certs, 'ca.pem');
  const tlsCall = async (port: number, body: Record<string, unknown>) => {
    const c = await Client.connectTls(port, { ca: await readFile(ca) }, t);
    c.send(body);
    const r = await c.next();
    c.socket.destroy();
    return r;
  };
  await waitUntil('both servers registered', async () => ((await tlsCall(master.port, { command: 'get_chunk_servers' }))?.servers?.length ?? 0) === 2);

  await t.test('plain TCP gets tls_required and a log line, on the master and on a chunk server', async (t) => {
    t.same(await call(master.port, { command: 'list_files' }), { status: 'error', message: 'tls_required' });
    t.same(await call(s1.port, { command: 'check_space' }), { status: 'error', message: 'tls_required' });
    await waitUntil('the refusal is logged', () => master.stdout().includes('plain TCP refused: [security] tls = \\"all\\"') && s1.stdout().includes('plain TCP refused'));
    const plain = await runGfs(['--master', master.address, 'ls', '/'], { cwd: dir });
    t.equal(plain.code, 1);
    t.match(plain.stderr, /tls_required/, 'gfs without --tls_ca says why');
  });

  await t.test('gfs with --tls_ca stores, lists and reads; replicas go member to member', async (t) => {
    const local = join(dir, 'data.bin');
    const data = randomBytes(300_000);
    await writeFile(local, data);
    const put = await runGfs(['--master', master.address, '--tls_ca', ca, '--chunk_size', '100000', 'put', local, '/d.bin'], { cwd: dir });
    t.equal(put.code, 0, put.stderr);
    const ls = await runGfs(['--master', master.address, 'ls', '-l', '/'], { cwd: dir, env: { GFS_TLS_CA: ca } });
    t.match(ls.stdout.toString(), /\t3\t\/d\.bin/);
    const got = await runGfs(['--master', master.address, '--tls_ca', ca, 'get', '/d.bin', '-'], { cwd: dir });
    t.ok(got.stdout.equals(data), 'the bytes come back');
    const meta = await tlsCall(master.port, { command: 'get_file_metadata', file_path: '/d.bin' });
    const locations = Object.values((meta?.metadata ?? meta)?.chunk_locations ?? {}) as string[][];
    t.same(locations.map((l) => [...l].sort()), Array(3).fill([s1.address, s2.address].sort()), 'every chunk on both servers');
  });

  await t.test('a CA the client does not know is a clear error', async (t) => {
    await makeCerts(join(dir, 'other'), ['x']);
    const r = await runGfs(['--master', master.address, '--tls_ca', join(dir, 'other', 'ca.pem'), 'ls', '/'], { cwd: dir });
    t.equal(r.code, 1);
    t.match(r.stderr, /TLS handshake failed: .*(self-signed|unable to verify|unable to get)/i);
  });

  await t.test('a changed certificate is taken without a restart; an unusable one is not', async (t) => {
    const fingerprint = async (): Promise<string> => {
      const c = await Client.connectTls(master.port, { ca: await readFile(ca) }, t);
      const f = (c.socket as import('node:tls').TLSSocket).getPeerCertificate().fingerprint256;
      c.socket.destroy();
      return f;
    };
    const before = await fingerprint();
    const fresh = join(dir, 'fresh');
    await makeCerts(fresh, ['master']);
    // The fresh directory has its own CA: copying its certificate over would be refused.
    await makeCerts(certs, ['master2']);
    await copyFile(join(certs, 'master2.key'), join(certs, 'master.key'));
    await copyFile(join(certs, 'master2.pem'), join(certs, 'master.pem'));
    await waitUntil('the master reloads', () => master.stdout().includes('TLS certificate reloaded'));
    const after = await fingerprint();
    t.not(after, before, 'new connections get the new certificate');
    await copyFile(join(fresh, 'master.pem'), join(certs, 'master.pem'));
    await copyFile(join(fresh, 'master.key'), join(certs, 'master.key'));
    await waitUntil('the master refuses the foreign certificate', () => /is not signed by the CA[^\n]*keeping the previous certificate/.test(master.stdout()));
    t.equal(await fingerprint(), after, 'the previous certificate stays');
  });
});
