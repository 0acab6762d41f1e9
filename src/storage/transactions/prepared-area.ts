import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ChunkIdentity, NewVersion } from '../chunks/types.js';
import { isSafeId } from '../../safe-name.js';

/**
 * The `.prepared/` folder of a chunk directory and the sidecar format of its transactions.
 * Each prepared transaction (prepare_* / commit_* / rollback_*) is files in the folder (a
 * dot-name, so never a chunk id) and a sidecar `<stem>.json` naming the transaction:
 * - prepare_chunk (format 1): `<stem>.data`, the whole new version, and `<stem>.crc`, its
 *   checksums; commit renames it over the chunk.
 * - prepare_append (format 2): `<stem>.data` holds only the record's bytes (their CRC32 in
 *   the sidecar, with the offset and the chunk version they apply to), never a copy of the
 *   chunk; commit appends them in place or, below the end, overwrites through a redo record
 *   (ChunkAppender). The chunk's record names the last transaction committed into it, so a
 *   sidecar left by a crash right after such a commit is known for the commit it was.
 * - v1's prepared appends (format 1, a whole copy) are still committed by rename.
 * Data and checksums are written and fsynced first, then the sidecar (temp, fsync, rename,
 * directory fsync), and only then is `prepared` replied; so a sidecar on disk always means
 * complete data and checksums. The stem is random: ids may hold dots and reach 128
 * characters each, so names built from them could be ambiguous or too long.
 *
 * Invariants the start-up scan relies on:
 * - commit renames `.data` onto the chunk before it deletes the sidecar;
 * - rollback and expiry delete the sidecar (and fsync the folder) before the data.
 * Hence a sidecar whose data is gone was committed, and data without a sidecar was never
 * prepared (a crash mid-prepare) and is removed.
 */

export type TxKind = 'chunk' | 'append';

export interface Sidecar {
  format: 1 | 2;
  kind: TxKind;
  chunk_id: string;
  transaction_id: string;
  size: number;
  created_at: number;
  /** Appends only: the chunk version the data was built on, null when there was no chunk. */
  base?: ChunkIdentity | null;
  /** Format 2 appends. */
  offset?: number;
  base_version?: number;
  crc?: number;
}

export const PREPARED_DIR = '.prepared';
const DATA_SUFFIX = '.data';
const SUMS_SUFFIX = '.crc';
const SIDECAR_SUFFIX = '.json';
const TEMP_SUFFIX = '.tmp';
export function keyOf(kind: TxKind, chunkId: string, transactionId: string): string {
  // '/' cannot occur in a safe id, so the key is unambiguous.
  return `${kind}/${chunkId}/${transactionId}`;
}

function isIdentity(v: unknown): v is ChunkIdentity {
  const o = v as ChunkIdentity;
  return typeof o === 'object' && o !== null && Number.isSafeInteger(o.size) && typeof o.ino === 'string' && typeof o.mtime_ns === 'string';
}

function parseSidecar(text: string): Sidecar | null {
  let v: Sidecar;
  try {
    v = JSON.parse(text) as Sidecar;
  } catch {
    return null;
  }
  const ok =
    typeof v === 'object' &&
    v !== null &&
    (v.format === 1 || (v.format === 2 && v.kind === 'append' && Number.isSafeInteger(v.offset) && Number.isSafeInteger(v.base_version) && Number.isSafeInteger(v.crc))) &&
    (v.kind === 'chunk' || v.kind === 'append') &&
    typeof v.chunk_id === 'string' &&
    isSafeId(v.chunk_id) &&
    typeof v.transaction_id === 'string' &&
    isSafeId(v.transaction_id) &&
    Number.isSafeInteger(v.size) &&
    v.size >= 0 &&
    Number.isFinite(v.created_at) &&
    (v.kind === 'chunk' || v.format === 2 || v.base === null || isIdentity(v.base));
  return ok ? v : null;
}

export async function unlinkIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

export interface ScannedTx {
  stem: string;
  sidecar: Sidecar;
}

/** The `.prepared` folder: the files of every prepared transaction. Created by the first prepare. */
export class PreparedArea {
  private creating: Promise<void> | null = null;

  private constructor(
    readonly dir: string,
    private handle: FileHandle | null,
  ) {}

  /** Opens the folder if it exists and sorts out what a crash may have left in it. */
  static async open(dir: string): Promise<{ area: PreparedArea; kept: ScannedTx[]; committed: Sidecar[]; removed: number }> {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      return { area: new PreparedArea(dir, null), kept: [], committed: [], removed: 0 };
    }
    const dataNames = new Set(names.filter((n) => n.endsWith(DATA_SUFFIX)));
    const sumsNames = new Set(names.filter((n) => n.endsWith(SUMS_SUFFIX)));
    const toRemove = names.filter((n) => !n.endsWith(DATA_SUFFIX) && !n.endsWith(SIDECAR_SUFFIX) && !n.endsWith(SUMS_SUFFIX));
    const newest = new Map<string, ScannedTx>();
    const committed: Sidecar[] = [];

    for (const name of names.filter((n) => n.endsWith(SIDECAR_SUFFIX))) {
      const stem = name.slice(0, -SIDECAR_SUFFIX.length);
      const dataName = stem + DATA_SUFFIX;
      const sidecar = parseSidecar(await readFile(join(dir, name), 'utf8'));
      if (!sidecar) {
        toRemove.push(name);
        continue;
      }
      if (!dataNames.has(dataName)) {
        committed.push(sidecar);
        toRemove.push(name);
        continue;
      }
      const { size } = await stat(join(dir, dataName));
      if (size !== sidecar.size) {
        toRemove.push(name);
        continue;
      }
      dataNames.delete(dataName);
      // Two sidecars for one transaction: a re-prepare crashed before dropping the older one.
      const key = keyOf(sidecar.kind, sidecar.chunk_id, sidecar.transaction_id);
      const other = newest.get(key);
      if (other && other.sidecar.created_at > sidecar.created_at) {
        toRemove.push(name, dataName);
        continue;
      }
      if (other) toRemove.push(other.stem + SIDECAR_SUFFIX, other.stem + DATA_SUFFIX);
      newest.set(key, { stem, sidecar });
    }
    // Data no sidecar vouches for: a prepare that never completed.
    toRemove.push(...dataNames);
    for (const { stem } of newest.values()) sumsNames.delete(stem + SUMS_SUFFIX);
    toRemove.push(...sumsNames);

    // Sidecars go before data, keeping the invariants above even if this is interrupted.
    toRemove.sort((a, b) => Number(b.endsWith(SIDECAR_SUFFIX)) - Number(a.endsWith(SIDECAR_SUFFIX)));
    for (const name of toRemove) await unlinkIfPresent(join(dir, name));
    const handle = await open(dir, 'r');
    if (toRemove.length > 0) await handle.sync();
    return { area: new PreparedArea(dir, handle), kept: [...newest.values()], committed, removed: toRemove.length };
  }

  /** Creates the folder, durably, before the first prepared file goes in. */
  ensure(): Promise<void> {
    if (this.handle) return Promise.resolve();
    this.creating ??= (async () => {
      await mkdir(this.dir, { recursive: true });
      const parent = await open(dirname(this.dir), 'r');
      try {
        await parent.sync();
      } finally {
        await parent.close();
      }
      this.handle = await open(this.dir, 'r');
    })().finally(() => (this.creating = null));
    return this.creating;
  }

  /** Makes renames and deletions in the folder durable. */
  async sync(): Promise<void> {
    await this.handle?.sync();
  }

  newStem(): string {
    return randomBytes(12).toString('hex');
  }

  dataPath(stem: string): string {
    return join(this.dir, stem + DATA_SUFFIX);
  }

  /** The prepared version's data and checksum files. */
  versionPaths(stem: string): NewVersion {
    return { data: this.dataPath(stem), sums: join(this.dir, stem + SUMS_SUFFIX) };
  }

  private sidecarPath(stem: string): string {
    return join(this.dir, stem + SIDECAR_SUFFIX);
  }

  /** Makes the transaction durable; its data file must already be complete and fsynced. */
  async writeSidecar(stem: string, sidecar: Sidecar): Promise<void> {
    const temp = this.sidecarPath(stem) + TEMP_SUFFIX;
    try {
      const fh = await open(temp, 'wx', 0o644);
      try {
        await fh.writeFile(JSON.stringify(sidecar));
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(temp, this.sidecarPath(stem));
    } catch (err) {
      await unlinkIfPresent(temp).catch(() => undefined);
      throw err;
    }
    await this.sync();
  }

  /** Rollback, expiry, or a failed prepare: the sidecar goes durably first, then the data. */
  async discard(stem: string): Promise<void> {
    await unlinkIfPresent(this.sidecarPath(stem));
    await this.sync();
    await unlinkIfPresent(this.dataPath(stem));
    await unlinkIfPresent(this.versionPaths(stem).sums);
  }

  /**
   * After the data was renamed onto the chunk. Not fsynced: a sidecar that comes back after
   * a crash has no data and is read as the commit it was. Checksums left behind (their
   * rename failed) go too.
   */
  async forgetCommitted(stem: string): Promise<void> {
    await unlinkIfPresent(this.sidecarPath(stem));
    await unlinkIfPresent(this.versionPaths(stem).sums);
  }

  /** A format-2 record's bytes, durable on return. */
  async writeRecord(stem: string, data: Buffer, fsync: boolean): Promise<void> {
    const fh = await open(this.dataPath(stem), 'wx', 0o644);
    try {
      await fh.writeFile(data);
      if (fsync) await fh.sync();
    } finally {
      await fh.close();
    }
  }

  readRecord(stem: string): Promise<Buffer> {
    return readFile(this.dataPath(stem));
  }

  async hasData(stem: string): Promise<boolean> {
    try {
      await stat(this.dataPath(stem));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.handle?.close();
  }
}

