// Kept connections under tls = "all" (issue 26 item 5): a client's puts and gets, the chunk
// servers' forwarding to each other and their beats and reports to the master reuse their
// connections, so the servers accept far fewer connections (each one a TLS handshake) than
// they answer requests.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { get as httpsGet } from 'node:https';
import { join } from 'node:path';
import t from 'tap';
import { GfsClient } from '../../../src/client/index.js';
import { certFiles, makeCerts, tlsToml } from '../../support/certs.js';
import { spawnChunk } from '../../support/cluster.js';
import { chunkToml, freePort, masterToml, writeToml } from '../../support/configs.js';
import { sample } from '../../support/http.js';
import { spawnMaster } from '../../support/processes.js';
import { tempDir } from '../../support/temp.js';
import { waitUntil } from '../../support/waits.js';

const MEMBERS = ['master', 's1', 's2'];
const FILES = 20;

/** GET /metrics over HTTPS (under "all" the metrics ports speak TLS too). */
function metrics(port: number, ca: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    httpsGet({ host: '127.0.0.1', port, path: '/metrics', ca, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
      res.on('error', reject);
    }).on('error', reject);
  });
}

/** Every `<prefix>_requests_total` sample added up: the requests the server answered. */
function requests(text: string, prefix: string): number {
  let n = 0;
  for (const m of text.matchAll(new RegExp(`^${prefix}_requests_total\\{[^}]*\\} (\\S+)$`, 'gm'))) n += Number(m[1]);
  return n;
}

t.test('members and the client library keep their TLS connections', async (t) => {
  const dir = await tempDir(t);
  const certs = join(dir, 'certs');
  await makeCerts(certs, MEMBERS);
  const ca = await readFile(join(certs, 'ca.pem'));
  const config = (name: string): Promise<string> =>
    writeToml(dir, `${name}.toml`, `${masterToml()}replication_factor = 2\n${chunkToml()}${tlsToml('all', certFiles(certs, name), MEMBERS)}`);
  const masterHttp = await freePort();
  const master = await spawnMaster(t, ['--config', await config('master'), '--port', '0', '--metadata', 'meta.json', '--http_port', String(masterHttp)], dir);
  const ports = [await freePort(), await freePort()];
  const servers = [
    await spawnChunk(t, dir, { id: 's1', master: master.port, config: await config('s1'), x: 1, y: 1, extra: ['--metrics_port', String(ports[0])] }),
    await spawnChunk(t, dir, { id: 's2', master: master.port, config: await config('s2'), x: 2, y: 2, extra: ['--metrics_port', String(ports[1])] }),
  ];
  const client = new GfsClient({ master: master.address, tls: { caFile: join(certs, 'ca.pem') }, chunkSize: 64 * 1024 });
  t.teardown(() => client.close());
  await waitUntil('both servers live', async () => (await client.servers()).filter((s) => s.state === 'live').length === 2);

  const data = randomBytes(3 * 64 * 1024);
  for (let i = 0; i < FILES; i++) await client.put(data, `/f${i}.bin`, { minCopies: 2 });
  for (let i = 0; i < FILES; i++) {
    const got = join(dir, `got${i}.bin`);
    t.equal(await client.get(`/f${i}.bin`, got), data.length);
    if (i === 0) t.ok((await readFile(got)).equals(data), 'the bytes come back');
  }

  const stats = client.connectionStats();
  t.ok(stats.reused > 10 * stats.opened, `the client reused its connections: ${JSON.stringify(stats)}`);
  const texts = [await metrics(masterHttp, ca), ...(await Promise.all(ports.map((p) => metrics(p, ca))))];
  const prefixes = ['master', 'chunkserver', 'chunkserver'];
  let answered = 0;
  let accepted = 0;
  texts.forEach((text, i) => {
    const r = requests(text, prefixes[i]!);
    const c = sample(text, `${prefixes[i]}_connections_total`)!;
    t.ok(c >= 1, `${prefixes[i]} ${i} counts its connections`);
    t.comment(`${prefixes[i]}: ${r} requests on ${c} connections`);
    answered += r;
    accepted += c;
  });
  // 20 puts of three chunks with a replica each and 20 gets: several hundred requests, and
  // per member pair and per client address only as many connections as ran at once.
  t.ok(answered >= FILES * 10, `requests answered: ${answered}`);
  t.ok(accepted * 10 <= answered, `connections accepted (${accepted}, each a TLS handshake) are a small fraction of requests (${answered})`);
});
