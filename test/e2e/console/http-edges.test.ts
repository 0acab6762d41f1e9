// Issue 21 item 3: the HTTP sides have the TCP side's bounds (late headers, connections) and,
// under [security] http_read = "key", show nothing without the token derived from the cluster
// key. Real chunk server and master processes.
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { HTTP_LIMITS } from '../../../src/http/http-server.js';
import { readToken } from '../../../src/http/guards.js';
import { freePort, masterToml, writeToml } from '../../support/configs.js';
import { call } from '../../support/frames.js';
import { http } from '../../support/http.js';
import { spawnMaster, spawnServer } from '../../support/processes.js';
import { tempDir, type Teardown } from '../../support/temp.js';
import { waitFor } from '../../support/waits.js';

/** A raw connection and everything it received until the server closed it. */
function rawSocket(t: Teardown, port: number): { socket: Socket; closed: Promise<string> } {
  const socket = connect({ host: '127.0.0.1', port });
  t.teardown(() => socket.destroy());
  let text = '';
  socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
  socket.on('error', () => undefined);
  return { socket, closed: new Promise((resolve) => socket.once('close', () => resolve(text))) };
}

t.test('http_read = "key": /metrics, /healthz and /api/ need the token; the page\'s files do not', async (t) => {
  const dir = await tempDir(t, 'http-read-');
  const key = randomBytes(32).toString('hex');
  await writeFile(join(dir, 'cluster.key'), `${key}\n`);
  const security = '[security]\ncluster_key_file = "cluster.key"\nhttp_read = "key"\n';
  const metricsPort = await freePort();
  const chunkConfig = await writeToml(dir, 'c.toml', `[chunk_server]\nmetrics_port = ${metricsPort}\n${security}`);
  await spawnServer(t, ['--config', chunkConfig, '--data_dir', 'data', '--no_master'], dir);
  const web = await freePort();
  const master = await spawnMaster(t, ['--config', await writeToml(dir, 'm.toml', `${masterToml()}${security}`), '--port', '0', '--metadata', 'meta.json', '--http_port', String(web)], dir);

  const token = readToken(Buffer.from(key));
  const bearer = { authorization: `Bearer ${token}` };
  for (const [port, path] of [[metricsPort, '/metrics'], [metricsPort, '/healthz'], [web, '/metrics'], [web, '/healthz'], [web, '/api/state'], [web, '/api/files']] as const) {
    const refused = await http(port, 'GET', path);
    t.equal(refused.status, 401, `${port === web ? 'master' : 'chunk server'} ${path} without the token: 401`);
    t.match(refused.json(), { error: 'read_key_required', message: /http_read = "key"/ });
    t.match(refused.headers['www-authenticate'], /^Basic /, 'a browser is asked for it');
    t.equal((await http(port, 'GET', path, undefined, { headers: { authorization: 'Bearer 00' } })).status, 401, `${path}: a wrong token is refused`);
    t.equal((await http(port, 'GET', path, undefined, { headers: bearer })).status, 200, `${path} with the token: 200`);
  }
  // A browser's login box: any user name, the token as the password.
  const basic = `Basic ${Buffer.from(`ops:${token}`).toString('base64')}`;
  t.equal((await http(web, 'GET', '/api/state', undefined, { headers: { authorization: basic } })).status, 200, 'Basic with the token as password: 200');
  t.equal((await http(web, 'GET', '/')).status, 200, 'the page itself loads without it');
  t.equal((await call(master.port, { command: 'list_files' })).status, 'ok', 'the TCP side is unchanged');
});

t.test('late headers get 408 and a closed connection; past max connections a new one is closed at once', async (t) => {
  const dir = await tempDir(t, 'http-limits-');
  const metricsPort = await freePort();
  await spawnServer(t, ['--config', await writeToml(dir, 'c.toml', `[chunk_server]\nmetrics_port = ${metricsPort}\n`), '--data_dir', 'data', '--no_master'], dir);

  const slow = rawSocket(t, metricsPort);
  slow.socket.write('GET /metrics HTTP/1.1\r\nhost: x\r\n');
  t.match(await slow.closed, /^HTTP\/1\.1 408 /, `headers not done within ${HTTP_LIMITS.headersTimeoutMs} ms: 408, then closed`);

  const held: Array<{ socket: Socket; closed: Promise<string> }> = [];
  for (let i = 0; i < HTTP_LIMITS.maxConnections; i++) {
    const s = rawSocket(t, metricsPort);
    await new Promise((resolve) => s.socket.once('connect', resolve));
    held.push(s);
  }
  // The server counts a connection once it has accepted it: wait until the last one answers.
  held.at(-1)!.socket.write('GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n');
  await waitFor('the last held connection answered', () => (held.at(-1)!.socket.bytesRead > 0 ? true : undefined));
  const extra = rawSocket(t, metricsPort);
  extra.socket.write('GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n');
  t.equal(await extra.closed, '', `connection ${HTTP_LIMITS.maxConnections + 1} closed unanswered`);
  for (const s of held) s.socket.destroy();
  await waitFor('a connection taken again once the others closed', async () => ((await http(metricsPort, 'GET', '/healthz').catch(() => null))?.status === 200 ? true : undefined));
  t.pass('served again');
});
