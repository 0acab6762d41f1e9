import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isSafeId } from '../../safe-name.js';

export const QUARANTINE_DIR = '.quarantine';
// Inside an entry: the chunk as it was found, its sums file if it had one, why it was moved,
// and, once the master has been told (or a good copy replaced it), a marker.
const DATA_NAME = 'data';
const SUMS_NAME = 'data.crc';
const INFO_NAME = 'info.json';
const REPORTED_NAME = 'reported';
// `<ms>-<hex>-<chunk id>`: ids may hold '-', so the id is whatever follows the second dash.
const ENTRY = /^(\d+)-([0-9a-f]+)-(.+)$/;

async function fsyncDir(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * `<chunk_dir>/.quarantine/`: chunks found corrupt, kept for an operator to look at, never
 * served, not counted in the space account (the folder is skipped like every dot-folder).
 * One folder per finding, so a chunk that is re-replicated here and goes bad again keeps
 * both copies. Findings not yet reported to the master are rebuilt from the folder at
 * start-up, so a restart does not lose them.
 */
export class Quarantine {
  /** chunk id -> entries not yet reported */
  private readonly unreported = new Map<string, string[]>();

  private constructor(readonly dir: string) {}

  static async open(chunkDir: string): Promise<Quarantine> {
    const q = new Quarantine(join(chunkDir, QUARANTINE_DIR));
    let names: string[];
    try {
      names = await readdir(q.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return q;
      throw err;
    }
    for (const name of names) {
      const m = ENTRY.exec(name);
      if (!m || !isSafeId(m[3]!)) continue;
      const inside = await readdir(join(q.dir, name)).catch(() => [REPORTED_NAME]);
      if (!inside.includes(REPORTED_NAME)) q.remember(m[3]!, name);
    }
    return q;
  }

  /** Ids of quarantined chunks the master has not been told about, oldest finding first. */
  get pending(): string[] {
    return [...this.unreported.keys()];
  }

  has(chunkId: string): boolean {
    return this.unreported.has(chunkId);
  }

  /** A name for a new finding about `chunkId`. */
  newEntry(chunkId: string): string {
    return `${Date.now()}-${randomBytes(3).toString('hex')}-${chunkId}`;
  }

  /** Adds a finding to those to report; the caller has finished dealing with the chunk. */
  remember(chunkId: string, entry: string): void {
    const list = this.unreported.get(chunkId);
    if (list) list.push(entry);
    else this.unreported.set(chunkId, [entry]);
  }

  /**
   * Moves a chunk (then its sums, if any) into a new entry, durably. The chunk moves
   * first: a crash in between leaves an orphan sums file (removed at start-up), never a
   * chunk without sums, which start-up would checksum afresh and so bless its damage.
   */
  async admit(entry: string, chunkId: string, chunkPath: string, sumsPath: string | null, info: Record<string, unknown>): Promise<void> {
    const path = join(this.dir, entry);
    await mkdir(path, { recursive: true });
    // Only for the operator: a full disk must not keep the chunk from moving.
    await writeFile(join(path, INFO_NAME), JSON.stringify({ chunk_id: chunkId, ...info }) + '\n').catch(() => undefined);
    await rename(chunkPath, join(path, DATA_NAME));
    if (sumsPath) {
      await rename(sumsPath, join(path, SUMS_NAME)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    }
    await fsyncDir(path);
    await fsyncDir(this.dir);
  }

  /**
   * Marks findings as reported so that a restart does not report them again. They leave
   * the pending list even if a marker cannot be written (a read-only disk): then they are
   * reported once more after a restart, which the master takes as a repeat.
   */
  async acknowledge(chunkIds: Iterable<string>): Promise<void> {
    const failures: unknown[] = [];
    for (const chunkId of chunkIds) {
      const entries = this.unreported.get(chunkId);
      if (!entries) continue;
      this.unreported.delete(chunkId);
      for (const entry of entries) {
        // ENOENT: the finding could not even get its folder (a read-only disk); nothing to mark.
        await writeFile(join(this.dir, entry, REPORTED_NAME), '').catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOENT') failures.push(err);
        });
      }
    }
    if (failures.length > 0) throw failures[0];
  }
}
