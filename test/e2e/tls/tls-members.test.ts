// tls = "members" on real processes: the master and chunk servers speak mutual TLS, each
// checking the cluster CA and the allow-list; clients keep plain TCP. Anyone else (no
// certificate, another CA's, an expired one, a name outside the list) is refused.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { certFiles, makeCerts, tlsToml } from '../../support/certs.js';
import { spawnChunk } from '../../support/cluster.js';
import { liveServers, waitForServers } from '../../support/cluster-probes.js';
import { chunkToml, masterToml, writeToml } from '../../support/configs.js';
import { call, Client, type Reply } from '../../support/frames.js';
import { runCli, runGfs, spawnMaster } from '../../support/processes.js';
import { tempDir } from '../../support/temp.js';
import { waitUntil, logged } from '../../support/waits.js';

const MEMBERS = ['master', 's1', 's2'];
const REGISTER = { command: 'register_chunk_server', address: '127.0.0.1:1', location: [0, 0] };

async function ask(client: Client, body: Record<string, unknown>): Promise<Reply | null> {
  client.send(body);
  const r = await client.next();
  client.socket.destroy();
  return r;
}

t.test('members speak mutual TLS; strangers are refused', async (t) => {
  const dir = await tempDir(t);
  const certs = join(dir, 'certs');
  const other = join(dir, 'other-ca');
  await makeCerts(certs, [...MEMBERS, 'intruder', 'client']);
  await makeCerts(join(dir, 'expired'), ['s9'], { days: -1 });
  await makeCerts(other, ['s1']);
  // The expired certificate must come from the cluster CA to test expiry alone.
  await makeCerts(certs, ['old'], { days: -1 });
  const config = async (name: string, files = certFiles(certs, name)): Promise<string> =>
    writeToml(dir, `${name}.toml`, `${masterToml()}replication_factor = 2\n${chunkToml()}${tlsToml('members', files, MEMBERS)}`);

  const master = await spawnMaster(t, ['--config', await config('master'), '--port', '0', '--metadata', 'meta.json'], dir);
  const s1 = await spawnChunk(t, dir, { id: 's1', master: master.port, config: await config('s1'), x: 1, y: 1 });
  const s2 = await spawnChunk(t, dir, { id: 's2', master: master.port, config: await config('s2'), x: 2, y: 2 });
  await waitForServers(master.port, [s1.address, s2.address]);

  await t.test('a plain client stores and reads; the replica goes over TLS', async (t) => {
    const file = join(dir, 'hello.txt');
    await (await import('node:fs/promises')).writeFile(file, 'hello over members TLS\n');
    const put = await runGfs(['--master', master.address, 'put', file, '/hello.txt'], { cwd: dir });
    t.equal(put.code, 0, put.stderr);
    const ls = await runGfs(['--master', master.address, 'ls', '-l', '/'], { cwd: dir });
    t.match(ls.stdout.toString(), /\t1\t\/hello\.txt/);
    const got = await runGfs(['--master', master.address, 'get', '/hello.txt', '-'], { cwd: dir });
    t.equal(got.stdout.toString(), 'hello over members TLS\n');
    const meta = await call(master.port, { command: 'get_file_metadata', file_path: '/hello.txt' });
    const holders = Object.values(meta.metadata?.chunk_locations ?? meta.chunk_locations ?? {})[0] as string[] | undefined;
    t.equal(holders?.length, 2, 'both members hold the chunk');
  });

  await t.test('a member-only request without a member certificate is refused', async (t) => {
    t.same(await call(master.port, REGISTER), { status: 'error', message: 'member_required' }, 'plain TCP');
    const noCert = await Client.connectTls(master.port, { ca: await readFile(join(certs, 'ca.pem')), checkServerIdentity: () => undefined }, t);
    t.same(await ask(noCert, REGISTER), { status: 'error', message: 'member_required' }, 'TLS without a certificate');
    const f = certFiles(certs, 'intruder');
    const outsider = await Client.connectTls(master.port, { ca: await readFile(f.ca), cert: await readFile(f.cert), key: await readFile(f.key), checkServerIdentity: () => undefined }, t);
    t.same(await ask(outsider, REGISTER), { status: 'error', message: 'member_required' }, 'a name outside the allow-list');
    t.ok(await logged(() => master.stdout(), /request refused: no member certificate/), 'request refused: no member certificate');
    t.notOk((await liveServers(master.port)).includes('127.0.0.1:1'));
  });

  await t.test("another CA's certificate and an expired one are refused with the reason", async (t) => {
    const ca = await readFile(join(certs, 'ca.pem'));
    const foreign = certFiles(other, 's1');
    const c1 = await Client.connectTls(master.port, { ca, cert: await readFile(foreign.cert), key: await readFile(foreign.key), checkServerIdentity: () => undefined }, t);
    t.match(await ask(c1, REGISTER), { status: 'error', message: /^tls_refused: (UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)$/ });
    const old = certFiles(certs, 'old');
    const c2 = await Client.connectTls(master.port, { ca, cert: await readFile(old.cert), key: await readFile(old.key), checkServerIdentity: () => undefined }, t);
    t.same(await ask(c2, REGISTER), { status: 'error', message: 'tls_refused: CERT_HAS_EXPIRED' });
    t.ok(await logged(() => master.stdout(), /"reason":"CERT_HAS_EXPIRED","msg":"TLS peer refused: certificate not accepted"/), 'the master logs the expiry as the reason');
  });

  await t.test('a chunk server of another CA or outside the allow-list never joins', async (t) => {
    const stranger = await spawnChunk(t, dir, { id: 'stranger', master: master.port, config: await config('stranger', certFiles(other, 's1')), x: 3, y: 3 });
    const intruder = await spawnChunk(t, dir, { id: 'intruder', master: master.port, config: await config('intruder'), x: 4, y: 4 });
    await waitUntil('the stranger fails its handshake', () => /TLS handshake failed/.test(stranger.stdout()));
    await waitUntil('the master refuses the intruder', () => /"command":"register_chunk_server"[^\n]*request refused: no member certificate/.test(master.stdout()));
    const live = await liveServers(master.port);
    t.notOk(live.includes(stranger.address));
    t.notOk(live.includes(intruder.address));
  });

  await t.test('a server whose own certificate expired does not start', async (t) => {
    const run = await runCli(['--config', await config('s9', certFiles(join(dir, 'expired'), 's9')), '--server_id', 's9', '--data_dir', 'data'], dir);
    t.equal(run.code, 2);
    t.match(run.stderr, /\[security\] tls: certificate .*s9\.pem expired on /);
  });
});
