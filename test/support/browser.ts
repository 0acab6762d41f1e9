// A real browser for the console's tests: Debian's chromium (apt-get install chromium, see
// .ci/run) driven by puppeteer-core, which downloads no browser of its own.
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';

export const CHROMIUM = '/usr/bin/chromium';

type T = { teardown(fn: () => unknown): void };

/**
 * A headless chromium with a fresh profile under `dir`, closed at teardown. Nothing it does
 * reaches the internet. `trustSpki`: base64 SHA-256 hashes of public keys whose certificates
 * it takes (a test's own CA is in no trust store).
 */
export async function launchBrowser(t: T, dir: string, o: { trustSpki?: string[] } = {}): Promise<Browser> {
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
      ...(o.trustSpki ? [`--ignore-certificate-errors-spki-list=${o.trustSpki.join(',')}`] : []),
    ],
    defaultViewport: { width: 1400, height: 900 },
  });
  t.teardown(() => browser.close());
  return browser;
}
