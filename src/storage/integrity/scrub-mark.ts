import { randomBytes } from 'node:crypto';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

// Kept with the chunk records so that it moves with the data directory.
const SCRUB_MARK = '.last-scrub';

/** When the last scrub pass started (ms since the epoch), so a restart does not start one early. */
export async function lastScrub(metaDir: string): Promise<number | null> {
  try {
    const v = (JSON.parse(await readFile(join(metaDir, SCRUB_MARK), 'utf8')) as { started_at?: unknown }).started_at;
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
}

/** Not fsynced: a lost mark only moves one pass. */
export async function recordScrub(metaDir: string, startedAt: number): Promise<void> {
  const temp = join(metaDir, `.tmp-${randomBytes(8).toString('hex')}`);
  try {
    await writeFile(temp, JSON.stringify({ started_at: startedAt }) + '\n');
    await rename(temp, join(metaDir, SCRUB_MARK));
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
}
