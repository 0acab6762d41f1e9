// A client of the library's kind (an Rpc with a client credential from --key_file) against a
// chunk server with client_auth = "all": signed, it is served; without its key, refused.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { clientRpcAuth, loadClientCredential } from '../../../src/auth/client.js';
import { Rpc } from '../../../src/net/rpc.js';
import { startServer } from '../../support/in-process.js';
import { tempDir } from '../../support/temp.js';

t.test('a key file gives the client its id and key; a signed Rpc is served under client_auth = "all"', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'clients'));
  const secret = randomBytes(32).toString('hex');
  await writeFile(join(dir, 'clients', 'carol.key'), `${secret}\n`);
  const cred = loadClientCredential(join(dir, 'clients', 'carol.key'));
  t.same({ id: cred.id, key: cred.key.toString() }, { id: 'carol', key: secret });
  t.equal(loadClientCredential(join(dir, 'clients', 'carol.key'), 'c2').id, 'c2');
  t.throws(() => loadClientCredential(join(dir, 'clients', 'carol.key'), '../x'), /client id "..\/x" must be/);

  const server = await startServer(t, {
    security: { clusterKeys: [Buffer.from(randomBytes(32).toString('hex'))], clientAuth: 'all', clientKeysDir: join(dir, 'clients'), replayWindowS: 60, httpRead: 'open', unverifiedBytes: 16 * 1024 * 1024 },
  });
  const options = { connectTimeoutMs: 2000, requestTimeoutMs: 10_000, maxPerPeer: 2, maxReplyBytes: 1 << 26 };
  const signed = new Rpc({ ...options, auth: clientRpcAuth(cred) });
  const plain = new Rpc(options);
  const at = `127.0.0.1:${server.port}`;
  const data = randomBytes(300_000);
  t.same(await signed.request(at, { command: 'store_chunk', chunk_id: 'c', data }), { status: 'ok', chunk_id: 'c', replicas: 0, version: 1 });
  const back = await signed.request(at, { command: 'retrieve_chunk', chunk_id: 'c' });
  t.ok(Buffer.from(back.data as Buffer).equals(data), 'read back signed');
  t.same(await plain.request(at, { command: 'retrieve_chunk', chunk_id: 'c' }), { status: 'error', message: 'auth_required' }, 'reads need a key under "all"');
});
