import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import type { ElementHandle } from 'puppeteer-core';
import { GfsClient } from '../../../src/client/index.js';
import { launchBrowser } from '../../support/browser.js';
import { spawnChunk } from '../../support/cluster.js';
import { chunkToml, freePort, masterToml, writeToml } from '../../support/configs.js';
import { bytes, MIB } from '../../support/data.js';
import { ROOT } from '../../support/paths.js';
import { spawnMaster } from '../../support/processes.js';
import { tempDir } from '../../support/temp.js';
import { waitFor } from '../../support/waits.js';

// Hang guards only: each step waits for what the page shows.
const STEP_MS = 30_000;
const FILE = '/reports/week 48.bin';

t.test('the console in a real browser: upload, 3 holders, download byte-identical, a decommissioned server turns amber, a killed one dead, delete', async (t) => {
  const dir = await tempDir(t, 'console-browser-');
  const web = await freePort();
  // 1 MiB chunks for console uploads, so a 2.5 MiB file has three.
  const master = await spawnMaster(t, ['--config', await writeToml(dir, 'm.toml', masterToml({ extra: 'console_chunk_mb = 1\n' })), '--port', '0', '--metadata', 'meta.json', '--http_port', String(web)], dir);
  const config = await writeToml(dir, 'c.toml', chunkToml());
  const specs = [
    { id: 'north', x: 20, y: 80, spaceMb: 64 },
    { id: 'east', x: 80, y: 55, spaceMb: 32 },
    { id: 'south', x: 35, y: 15, spaceMb: 48 },
  ];
  const servers = await Promise.all(specs.map((s) => spawnChunk(t, dir, { ...s, master: master.port, config })));

  const browser = await launchBrowser(t, dir);
  const page = await browser.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(String(err)));
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(`http://127.0.0.1:${web}/`);
  await page.waitForFunction(() => document.querySelectorAll('#map g.server[data-state="live"]').length === 3, { timeout: STEP_MS });

  // Upload through the page's file input.
  const data = bytes(2.5 * MIB, 48);
  const local = join(dir, 'week 48.bin');
  await writeFile(local, data);
  const input = (await page.$('#upload-file')) as ElementHandle<HTMLInputElement>;
  await input.uploadFile(local);
  await page.type('#upload-path', FILE);
  await page.click('#upload-button');
  const row = `#files tr[data-path="${FILE}"]`;
  await page.waitForSelector(row, { timeout: STEP_MS });
  await page.waitForFunction(() => document.querySelector('#message')?.textContent?.startsWith('Upload'), { timeout: STEP_MS });
  t.match(await page.$eval('#message', (m) => m.textContent), /^Uploaded \/reports\/week 48\.bin \(2\.5 MiB\)/);
  t.equal(await page.$eval('#upload-progress', (p) => (p as HTMLProgressElement).value), 1, 'the progress bar is full');
  await page.$eval(row, (r) => (r as HTMLElement).click());
  // Every chunk of the file listed with three live holders.
  await page.waitForFunction(
    () => {
      const rows = [...document.querySelectorAll('#chunks tbody tr')];
      return rows.length === 3 && rows.every((r) => r.querySelectorAll('[data-holder].live').length === 3);
    },
    { timeout: STEP_MS },
  );
  t.equal(await page.$eval(`${row} .health`, (h) => h.textContent), 'at factor');
  await page.screenshot({ path: join(dir, '1-uploaded.png') });

  // Download through the page's link, into a folder of our own.
  const downloads = join(dir, 'downloads');
  await mkdir(downloads);
  const cdp = await page.createCDPSession();
  await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads });
  await page.$eval(`${row} a.download`, (a) => (a as HTMLElement).click());
  const saved = await waitFor('the download to finish', async () => {
    const names = await readdir(downloads);
    return names.length === 1 && !names[0]!.endsWith('.crdownload') ? join(downloads, names[0]!) : undefined;
  }, STEP_MS);
  t.equal(saved, join(downloads, 'week 48.bin'), 'saved under the file name');
  t.ok((await readFile(saved)).equals(data), 'downloaded bytes are identical to the uploaded ones');

  // Append through the page: the bytes of another local file, to the selected file.
  const tail = bytes(3000, 49);
  await writeFile(join(dir, 'tail.bin'), tail);
  await ((await page.$('#append-file')) as ElementHandle<HTMLInputElement>).uploadFile(join(dir, 'tail.bin'));
  await page.$eval('#append-button', (b) => (b as HTMLElement).click());
  await page.waitForFunction(() => document.querySelector('#message')?.textContent?.startsWith('Append'), { timeout: STEP_MS });
  t.match(await page.$eval('#message', (m) => m.textContent), /^Appended 2\.9 KiB to \/reports\/week 48\.bin/);
  const whole = Buffer.concat([data, tail]);
  const readBack = await page.evaluate(async (url) => {
    const r = await fetch(url);
    return [...new Uint8Array(await r.arrayBuffer())];
  }, `/api/file/data?path=${encodeURIComponent(FILE)}`);
  t.ok(Buffer.from(readBack).equals(whole), 'the appended bytes follow the uploaded ones');

  // Decommission one server through the master (the client library, as `gfs decommission`):
  // the open page turns it the decommissioning colour of the legend, without a reload.
  const leaving = servers[2]!;
  const loads = requests.filter((u) => u.endsWith('/console.js')).length;
  // Three servers at factor 3: a decommission that could never finish, so it is forced.
  await new GfsClient({ master: master.address }).decommission(leaving.address, { force: true });
  const leavingSel = `#map g.server[data-address="${leaving.address}"]`;
  await page.waitForSelector(`${leavingSel}[data-state="decommissioning"]`, { timeout: STEP_MS });
  const colours = await page.evaluate((sel) => {
    const fill = (q: string): string => getComputedStyle(document.querySelector(q)!).fill;
    const dot = (state: string): string => getComputedStyle(document.querySelector(`#legend [data-state="${state}"] .dot`)!).backgroundColor;
    return { map: fill(`${sel} circle.body`), live: fill('#map g.server[data-state="live"] circle.body'), legend: dot('decommissioning'), legendLive: dot('live'), legendDead: dot('dead') };
  }, leavingSel);
  t.equal(colours.map, colours.legend, 'the decommissioning server has the legend colour of decommissioning');
  t.not(colours.map, colours.live, 'which is not the colour of a live server');
  t.equal(colours.live, colours.legendLive, 'and live servers have the legend colour of live');
  t.not(colours.legend, colours.legendDead, 'the legend tells decommissioning from dead');
  t.match(await page.$eval('#summary', (s) => s.textContent), /2 live, 1 decommissioning, 0 dead servers/);
  await page.$eval(leavingSel, (g) => g.dispatchEvent(new MouseEvent('click', { bubbles: true })));
  // Three servers, factor 3: nowhere to copy to, so its chunks stay to be copied.
  await page.waitForFunction(
    (address) => /decommissioning.*decommissioning: 3 chunk\(s\) still to be copied elsewhere/s.test(document.querySelector('#server-detail')?.textContent ?? '') && document.querySelector('#server-detail strong')?.textContent === address,
    { timeout: STEP_MS },
    leaving.address,
  );
  await page.waitForFunction(
    (address) => [...document.querySelectorAll(`#chunks [data-holder="${address}"]`)].every((h) => h.classList.contains('decommissioning')),
    { timeout: STEP_MS },
    leaving.address,
  );
  t.equal(requests.filter((u) => u.endsWith('/console.js')).length, loads, 'the page was not reloaded');

  // Kill another chunk server: the map turns it dead, its copies turn dead in the chunk list.
  const victim = servers[1]!;
  victim.proc.kill('SIGKILL');
  await page.waitForSelector(`#map g.server[data-address="${victim.address}"][data-state="dead"]`, { timeout: STEP_MS });
  await page.waitForFunction(
    (address) => [...document.querySelectorAll(`#chunks [data-holder="${address}"]`)].every((h) => h.classList.contains('dead')),
    { timeout: STEP_MS },
    victim.address,
  );
  t.equal(await page.$$eval('#map g.server[data-state="live"]', (g) => g.length), 1, 'the third stays live');
  t.equal(await page.$$eval('#map g.server[data-state="decommissioning"]', (g) => g.length), 1, 'and the decommissioning one stays so');
  t.match(await page.$eval('#summary', (s) => s.textContent), /1 live, 1 decommissioning, 1 dead servers/);
  await page.$eval(`#map g.server[data-address="${victim.address}"]`, (g) => g.dispatchEvent(new MouseEvent('click', { bubbles: true })));
  await page.waitForSelector('#server-detail:not([hidden])', { timeout: STEP_MS });
  t.match(await page.$eval('#server-detail', (d) => d.textContent), new RegExp(`${victim.address}\\s*dead.*\\(80, 55\\).*chunks: 3`, 's'), 'a click shows the server: dead, its place, its chunks');
  await page.screenshot({ path: join(dir, '2-server-dead.png') });
  // The README's picture: refreshed when a run finds the page changed (CONSOLE_SCREENSHOT=1).
  if (process.env.CONSOLE_SCREENSHOT === '1') await copyFile(join(dir, '2-server-dead.png'), join(ROOT, 'docs', 'console.png'));

  // The server table: the dead one's heartbeat is minutes... or seconds old, and still said; the leaving one's progress.
  t.equal(await page.$eval(`#servers tr[data-address="${victim.address}"] td.state`, (c) => c.textContent), 'dead');
  t.match(await page.$eval(`#servers tr[data-address="${victim.address}"] td.heartbeat`, (c) => c.textContent), /^\d\d:\d\d:\d\d \(\d+ (s|min) ago\)$/);
  t.equal(await page.$eval(`#servers tr[data-address="${leaving.address}"] td.decommission`, (c) => c.textContent), '3 chunk(s) to copy elsewhere');

  // Delete through the page: it asks, then deletes.
  await page.$eval(`${row} button.delete`, (b) => (b as HTMLElement).click());
  await page.waitForSelector(`${row} button.confirm-delete`, { timeout: STEP_MS });
  await page.$eval(`${row} button.confirm-delete`, (b) => (b as HTMLElement).click());
  const outcome = await page.waitForFunction(
    (sel) => {
      const m = document.querySelector('#message')?.textContent ?? '';
      if (!document.querySelector(sel) && m.startsWith('Deleted')) return 'deleted';
      return m.includes('failed') ? m : false;
    },
    { timeout: STEP_MS },
    row,
  );
  t.equal(await outcome.jsonValue(), 'deleted', 'the file is gone from the list');
  await page.screenshot({ path: join(dir, '3-deleted.png') });

  t.same(pageErrors, [], 'no script errors on the page');
  t.same(requests.filter((u) => !u.startsWith(`http://127.0.0.1:${web}/`)), [], 'the page loads nothing from elsewhere');
  t.ok((await readdir(dir)).filter((n) => n.endsWith('.png')).length >= 3, 'screenshots saved in the test dir');
});
