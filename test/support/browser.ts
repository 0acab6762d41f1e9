// A real browser for the console's tests: Debian's chromium (apt-get install chromium, see
// .ci/run) driven by puppeteer-core, which downloads no browser of its own.
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';

export const CHROMIUM = '/usr/bin/chromium';

type T = { teardown(fn: () => unknown): void };

/** A headless chromium with a fresh profile under `dir`, closed at teardown. Nothing it does reaches the internet. */
export async function launchBrowser(t: T, dir: string): Promise<Browser> {
  const profile = await mkdtemp(join(dir, 'chromium-profile-'));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      `--user-data-dir=${profile}`,
    ],
    defaultViewport: { width: 1400, height: 900 },
  });
  t.teardown(() => browser.close());
  return browser;
}
