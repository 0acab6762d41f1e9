// The console and /metrics under tls = "all", on real processes and in a real browser: the
// page over HTTPS shows the cluster and uploads through it (the console's own calls to the
// master and the chunk servers go over TLS); plain HTTP gets a 400 saying to use https.
import { createHash, X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { join } from 'node:path';
import t from 'tap';
import type { ElementHandle } from 'puppeteer-core';
import { launchBrowser } from '../../support/browser.js';
import { certFiles, makeCerts, tlsToml } from '../../support/certs.js';
import { spawnChunk } from '../../support/cluster.js';
import { chunkToml, freePort, masterToml, writeToml } from '../../support/configs.js';
import { spawnMaster } from '../../support/processes.js';
import { tempDir } from '../../support/temp.js';
import { waitUntil } from '../../support/waits.js';

const STEP_MS = 30_000;
const NAMES = ['master', 'chunk'];

function fetchText(url: string, ca?: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const done = (res: import('node:http').IncomingMessage): void => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    };
    const req = url.startsWith('https:') ? httpsGet(url, { ca }, done) : httpGet(url, done);
    req.on('error', reject);
  });
}

t.test('the console over HTTPS in a real browser; plain HTTP is told to use https', async (t) => {
  const dir = await tempDir(t, 'console-https-');
  const certs = join(dir, 'certs');
  await makeCerts(certs, NAMES);
  const ca = await readFile(join(certs, 'ca.pem'));
  const web = await freePort();
  const metricsPort = await freePort();
  const master = await spawnMaster(
    t,
    ['--config', await writeToml(dir, 'm.toml', masterToml() + tlsToml('all', certFiles(certs, 'master'), NAMES)), '--port', '0', '--metadata', 'meta.json', '--http_port', String(web)],
    dir,
  );
  const config = await writeToml(dir, 'c.toml', chunkToml() + tlsToml('all', certFiles(certs, 'chunk'), NAMES));
  const servers = await Promise.all(
    ['a', 'b', 'c'].map((id, i) => spawnChunk(t, dir, { id, master: master.port, config, x: 10 * (i + 1), y: 10, extra: i === 0 ? ['--metrics_port', String(metricsPort)] : [] })),
  );
  t.ok(servers.length === 3);

  await t.test('plain HTTP to the console and to /metrics: 400 saying so, and a log line', async (t) => {
    const r = await fetchText(`http://127.0.0.1:${web}/`);
    t.equal(r.status, 400);
    t.match(r.body, /HTTPS only \(\[security\] tls = "all"\): use https:\/\//);
    t.equal((await fetchText(`http://127.0.0.1:${metricsPort}/metrics`)).status, 400);
    await waitUntil('the refusal is logged', () => master.stdout().includes('plain HTTP refused'));
  });

  await t.test('/metrics over HTTPS with the cluster CA', async (t) => {
    const r = await fetchText(`https://127.0.0.1:${metricsPort}/metrics`, ca);
    t.equal(r.status, 200);
    t.match(r.body, /# TYPE /);
  });

  await t.test('the page over HTTPS shows the live servers and uploads a file through TLS', async (t) => {
    const spki = createHash('sha256')
      .update(new X509Certificate(await readFile(join(certs, 'master.pem'))).publicKey.export({ type: 'spki', format: 'der' }))
      .digest('base64');
    const browser = await launchBrowser(t, dir, { trustSpki: [spki] });
    const page = await browser.newPage();
    await page.goto(`https://127.0.0.1:${web}/`);
    await page.waitForFunction(() => document.querySelectorAll('#map g.server[data-state="live"]').length === 3, { timeout: STEP_MS });
    const local = join(dir, 'tls.txt');
    await writeFile(local, 'uploaded through an HTTPS console\n');
    const input = (await page.$('#upload-file')) as ElementHandle<HTMLInputElement>;
    await input.uploadFile(local);
    await page.type('#upload-path', '/tls.txt');
    await page.click('#upload-button');
    await page.waitForSelector('#files tr[data-path="/tls.txt"]', { timeout: STEP_MS });
    await page.waitForFunction(() => document.querySelector('#message')?.textContent?.startsWith('Upload'), { timeout: STEP_MS });
    t.match(await page.$eval('#message', (m) => m.textContent), /^Uploaded \/tls\.txt/);
    await page.screenshot({ path: join(dir, 'https-console.png') });
  });
});
