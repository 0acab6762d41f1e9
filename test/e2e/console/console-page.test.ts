// The console page in a real browser, for what an operator reads off it: the title, a nearly
// full server that says so, the server table, a folder of 100,000 files a page at a time, a
// delete that asks first, sizes in words, and a master that went away.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import type { Page } from 'puppeteer-core';
import { DEFAULTS } from '../../../src/config/chunk-server.js';
import { launchBrowser } from '../../support/browser.js';
import { BEAT_S, freePort } from '../../support/configs.js';
import { bytes, MIB } from '../../support/data.js';
import { call } from '../../support/frames.js';
import { http } from '../../support/http.js';
import { startMasterHere, startServer } from '../../support/in-process.js';
import { tempDir } from '../../support/temp.js';

// Hang guards only: each step waits for what the page shows.
const STEP_MS = 30_000;
const MANY = 100_000;
const name = (i: number): string => `/big/f${String(i).padStart(6, '0')}.bin`;

const text = (page: Page, sel: string): Promise<string> => page.$eval(sel, (e) => e.textContent ?? '');
const waitText = (page: Page, sel: string, re: RegExp): Promise<unknown> =>
  page.waitForFunction((s, src) => new RegExp(src).test(document.querySelector(s)?.textContent ?? ''), { timeout: STEP_MS }, sel, re.source);
const click = (page: Page, sel: string): Promise<void> => page.$eval(sel, (e) => (e as HTMLElement).click());

t.test('the console page: title, a 96 % full server, the server table, 100k files paged, delete asks first, master unreachable', async (t) => {
  const dir = await tempDir(t, 'console-page-');
  // A reference metadata.json of 100,000 files is imported at start: the namespace of a big cluster in a moment.
  const reference: Record<string, unknown> = {};
  for (let i = 0; i < MANY; i++) reference[name(i)] = { file_path: name(i), total_size: 0, chunk_ids: [] };
  await mkdir(join(dir, 'metadata'));
  await writeFile(join(dir, 'metadata', 'metadata.json'), JSON.stringify(reference));
  const web = await freePort();
  const over = { httpPort: web, consoleChunkMb: 1, deadAfterS: 60, replicationFactor: 2 };
  let master = await startMasterHere(t, dir, over);
  const member = (id: string, spaceMb: number, x: number): Promise<Awaited<ReturnType<typeof startServer>>> =>
    startServer(t, { serverId: id, spaceMb, x, y: 50, heartbeatIntervalS: BEAT_S, master: { ...DEFAULTS.master, enabled: true, host: '127.0.0.1', port: master.port, replicationFactor: 2 } });
  const roomy = await member('roomy', 16, 20);
  const tight = await member('tight', 2, 80);
  // 96 % of the small server's 2 MiB, stored on it alone.
  const fill = await call(tight.port, { command: 'store_chunk', chunk_id: 'filler', data: bytes(Math.floor(0.96 * 2 * MIB), 5) });
  t.equal(fill.status, 'ok');

  const browser = await launchBrowser(t, dir);
  const page = await browser.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(String(err)));
  await page.goto(`http://127.0.0.1:${web}/`);

  // The title names the cluster's master, not the program.
  await page.waitForFunction((want) => document.title === want, { timeout: STEP_MS }, `GFS console · ${master.address}`);
  t.equal(await text(page, 'h1'), `GFS console ${master.address}`);

  // The full server says so on the map and in the table; the roomy one does not.
  const tightOnMap = `#map g.server[data-address="${tight.address}"]`;
  await page.waitForSelector(`${tightOnMap}.full`, { timeout: STEP_MS });
  t.match(await text(page, `${tightOnMap} text.percent`), /^9[6-9]%$/, 'its fill is written on the map');
  t.ok(await page.$(`${tightOnMap} circle.ring`), 'and ringed in the colour of the legend\'s full');
  t.notOk(await page.$(`#map g.server[data-address="${roomy.address}"].full`), 'the roomy server is not marked full');
  const row = (address: string): string => `#servers tr[data-address="${address}"]`;
  await page.waitForSelector(`${row(tight.address)}.full`, { timeout: STEP_MS });
  t.match(await text(page, `${row(tight.address)} td.used`), /^\s*9[6-9] %$/);
  t.match(await text(page, `${row(tight.address)} td.space`), /^1\.9 MiB of 2\.0 MiB$/, 'space in words, not byte counts');
  t.match(await text(page, `${row(roomy.address)} td.used`), /^\s*[0-4] %$/);
  t.match(await text(page, `${row(roomy.address)} td.heartbeat`), /^\d\d:\d\d:\d\d \(\d+ s ago\)$/, 'the last heartbeat: when, and how long ago');
  t.equal(await text(page, `${row(roomy.address)} td.state`), 'live');
  t.equal(await page.$$eval('#servers tbody tr', (r) => r.length), 2);

  // 100,000 files in one folder: the root shows the folder, the folder a page of 100 at a time.
  await page.waitForSelector('#files tr[data-folder="/big/"]', { timeout: STEP_MS });
  t.match(await text(page, '#files tr[data-folder="/big/"]'), /big\/100,000 file\(s\)/);
  await click(page, '#files tr[data-folder="/big/"]');
  await waitText(page, '#page-info', /^1–100 of 100,000$/);
  t.equal(await page.$$eval('#files tbody tr[data-path]', (r) => r.length), 100, 'one page of rows, not 100,000');
  t.equal(await page.$eval('#files tbody tr[data-path]', (r) => r.getAttribute('data-path')), name(0));
  t.equal(await text(page, '#crumbs'), 'root / big');
  await click(page, '#page-next');
  await waitText(page, '#page-info', /^101–200 of 100,000$/);
  t.equal(await page.$eval('#files tbody tr[data-path]', (r) => r.getAttribute('data-path')), name(100));
  await page.type('#file-filter', 'f09999');
  await waitText(page, '#page-info', /^1–10 of 10$/);
  t.same(await page.$$eval('#files tbody tr[data-path]', (r) => r.map((x) => x.getAttribute('data-path'))), Array.from({ length: 10 }, (_, i) => name(99_990 + i)));
  await page.$eval('#file-filter', (i) => { (i as HTMLInputElement).value = ''; i.dispatchEvent(new Event('input')); });
  await click(page, '#crumbs a[data-folder="/"]');
  await page.waitForSelector('#files tr[data-folder="/big/"]', { timeout: STEP_MS });

  // Sizes in words in the API's refusals too: 17 MiB cannot fit even once in about 16 MiB free.
  const refused = await http(web, 'PUT', `/api/file?path=${encodeURIComponent('/huge.bin')}`, bytes(17 * MIB, 1));
  t.equal(refused.status, 413);
  t.match(refused.json().message, /^17\.0 MiB does not fit even once: the live chunk servers have \d+\.\d MiB free$/);
  // Once is enough to store, as for gfs put: the tight server takes no copy, so each chunk has one of two, and the reply says so.
  const few = await http(web, 'PUT', `/api/file?path=${encodeURIComponent('/few.bin')}`, bytes(3 * MIB, 2));
  t.equal(few.status, 201, few.body.toString().slice(0, 200));
  t.match(few.json(), { copies: [1, 1, 1], replication_factor: 2, warnings: [/^3 of 3 chunks stored below the replication factor \(chunk 0 has 1 of 2 copies/] });
  t.equal((await http(web, 'DELETE', `/api/file?path=${encodeURIComponent('/few.bin')}`)).status, 200);

  // A delete asks first; "keep" keeps the file.
  const doc = '/docs/keep me.txt';
  t.equal((await http(web, 'PUT', `/api/file?path=${encodeURIComponent(doc)}`, 'hello')).status, 201);
  await page.waitForSelector('#files tr[data-folder="/docs/"]', { timeout: STEP_MS });
  await click(page, '#files tr[data-folder="/docs/"]');
  const docRow = `#files tr[data-path="${doc}"]`;
  await page.waitForSelector(docRow, { timeout: STEP_MS });
  await click(page, `${docRow} button.delete`);
  await page.waitForSelector(`${docRow} button.confirm-delete`, { timeout: STEP_MS });
  t.match(await text(page, `${docRow} td.confirm`), /delete for good\?/);
  t.equal((await http(web, 'GET', `/api/file?path=${encodeURIComponent(doc)}`)).status, 200, 'one click deleted nothing');
  await click(page, `${docRow} button.cancel-delete`);
  await page.waitForSelector(`${docRow} button.delete`, { timeout: STEP_MS });
  t.equal((await http(web, 'GET', `/api/file?path=${encodeURIComponent(doc)}`)).status, 200, 'kept');
  await click(page, `${docRow} button.delete`);
  await click(page, `${docRow} button.confirm-delete`);
  await waitText(page, '#message', /^Deleted \/docs\/keep me\.txt\.$/);
  await page.waitForFunction((s) => !document.querySelector(s), { timeout: STEP_MS }, docRow);
  t.equal((await http(web, 'GET', `/api/file?path=${encodeURIComponent(doc)}`)).status, 404, 'deleted once confirmed');

  // The master goes away: the page says so, and from when the data it still shows is.
  t.equal(await page.$eval('#stale', (e) => (e as HTMLElement).hidden), true, 'no warning while the master answers');
  await master.stop();
  await page.waitForSelector('#stale:not([hidden])', { timeout: STEP_MS });
  t.match(await text(page, '#stale'), /^Master unreachable, showing data from \d\d:\d\d:\d\d\.$/);
  t.match(await page.evaluate(() => document.title), /^\(unreachable\) GFS console/);
  t.ok(await page.$('body.stale'), 'the data shown is greyed');
  t.equal(await page.$$eval('#servers tbody tr', (r) => r.length), 2, 'the last data stays on the page');
  await page.screenshot({ path: join(dir, 'unreachable.png') });

  // Back on its ports: the warning goes.
  master = await startMasterHere(t, dir, { ...over, port: master.port });
  await page.waitForSelector('#stale[hidden]', { timeout: STEP_MS });
  await page.waitForFunction(() => !document.title.startsWith('(unreachable)'), { timeout: STEP_MS });
  t.notOk(await page.$('body.stale'));

  t.same(pageErrors, [], 'no script errors on the page');
});
