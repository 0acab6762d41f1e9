import { randomBytes } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { identityOf, sumsOfBuffer, type FileIdentity } from '../checksums/block-sums.js';
import { crashPoint, type CrashPoint } from '../io/crash-points.js';
import { DirSyncer } from '../io/dir-syncer.js';
import { HandleCache } from '../io/handle-cache.js';
import { taggedName } from './data-names.js';

// Temp files start with a dot, which no valid chunk id does, so they can never be mistaken
// for (or collide with) a chunk; any left at start-up belong to a store that never finished.
export const TEMP_PREFIX = '.store-';
export const TEMP_SUFFIX = '.tmp';

/** A file just written whole: who it is and the sums of what it holds. */
export interface WrittenFile {
  readonly identity: FileIdentity;
  readonly crcs: Uint32Array;
}

/**
 * The chunk directory's data files: a chunk is a plain file named by its id, or, once a
 * large store has replaced it, the tagged file its record names (`<id>~<tag>`, see
 * data-names.ts; `path` follows the record). Smaller whole versions are written under a temp
 * name, fsynced and renamed into place; large ones are written under their tagged name; appends and overwrites write into the chunk file itself, and only the record
 * in the metadata store says how much of it is committed. Chunk files written in place stay
 * open in a bounded cache (an append is then one write); every rename over a chunk, move and
 * removal goes through here and closes its handle first.
 */
export class ChunkFiles {
  private readonly dirSync: DirSyncer;
  private readonly handles: HandleCache;
  /** Chunks whose data file is not named by their id: chunk id -> file name, as their records say. */
  private readonly names = new Map<string, string>();

  constructor(
    readonly dir: string,
    private readonly dirHandle: FileHandle,
    /** false skips the fsyncs of data and directory (see StoreOptions.fsync). */
    readonly fsync: boolean,
  ) {
    this.dirSync = new DirSyncer(dirHandle);
    this.handles = new HandleCache((chunkId) => this.path(chunkId));
  }

  /** Chunk files open in the cache now. */
  get openFiles(): number {
    return this.handles.size;
  }

  /** Closes the chunk's cached handle: its file is about to be renamed over, moved aside or removed. */
  forget(chunkId: string): Promise<void> {
    return this.handles.forget(chunkId);
  }

  /** The chunk's data file, as its committed record names it. */
  path(chunkId: string): string {
    return join(this.dir, this.names.get(chunkId) ?? chunkId);
  }

  /** Where a whole version renamed into place goes: the file named by the id. */
  plainPath(chunkId: string): string {
    return join(this.dir, chunkId);
  }

  /** A fresh tagged file name for a new version of `chunkId`, and its path. */
  newTagged(chunkId: string): { name: string; path: string } {
    const name = taggedName(chunkId);
    return { name, path: join(this.dir, name) };
  }

  /**
   * The chunk's record now names `file` (undefined: the plain name, or no chunk). Called
   * as the record changes in memory; a cached handle of another file must be forgotten first.
   */
  nameData(chunkId: string, file: string | undefined): void {
    if (file === undefined) this.names.delete(chunkId);
    else this.names.set(chunkId, file);
  }

  tempPath(): string {
    return join(this.dir, `${TEMP_PREFIX}${randomBytes(8).toString('hex')}${TEMP_SUFFIX}`);
  }

  /**
   * Creates `path` holding `data`, fsynced unless `sync` is false (a logged store: the log
   * holds its bytes); its sums are computed from `data` as it is written, never read back.
   */
  async writeNew(path: string, data: Buffer, sync = this.fsync): Promise<WrittenFile> {
    const fh = await open(path, 'wx', 0o644);
    try {
      const identity = identityOf(await fh.stat({ bigint: true }));
      const [crcs] = await Promise.all([sumsOfBuffer(data), fh.writeFile(data).then(() => (sync ? fh.sync() : undefined))]);
      return { identity, crcs };
    } finally {
      await fh.close();
    }
  }

  /** Renames are durable once this resolves (grouped with concurrent callers). */
  async syncDir(): Promise<void> {
    if (this.fsync) await this.dirSync.sync();
  }

  async install(from: string, chunkId: string): Promise<void> {
    await this.forget(chunkId);
    await rename(from, this.plainPath(chunkId));
  }

  /**
   * Writes `data` at `offset` of the chunk file and makes it durable (fdatasync: the size
   * change is data too). `written` and `synced` name the crash points on either side.
   */
  writeAt(chunkId: string, offset: number, data: Buffer, written: CrashPoint, synced: CrashPoint): Promise<void> {
    return this.handles.use(chunkId, async (fh) => {
      await writeAt(fh, offset, data);
      crashPoint(written);
      if (this.fsync) await fh.datasync();
      crashPoint(synced);
    });
  }

  /**
   * Writes `data` at `offset` of the chunk file, not flushed: for appends whose durability
   * is the write-ahead log's record (replay writes them again after a power loss).
   */
  writeInPlace(chunkId: string, offset: number, data: Buffer): Promise<void> {
    return this.handles.use(chunkId, (fh) => writeAt(fh, offset, data));
  }

  /** fdatasync of the chunk file (a log checkpoint); false when there is no such file. */
  async syncData(chunkId: string): Promise<boolean> {
    try {
      await this.handles.use(chunkId, (fh) => fh.datasync());
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  /** The bytes [start, start + length) of the chunk file; fewer if it is shorter. */
  read(chunkId: string, start: number, length: number): Promise<Buffer> {
    return this.handles.use(chunkId, async (fh) => {
      const buf = Buffer.allocUnsafe(length);
      const { bytesRead } = await fh.read(buf, 0, length, start);
      return buf.subarray(0, bytesRead);
    });
  }

  /** Cuts the chunk file back to its committed length (bytes of an append that never committed). */
  truncate(chunkId: string, size: number): Promise<void> {
    return this.handles.use(chunkId, async (fh) => {
      await fh.truncate(size);
      await fh.datasync();
    });
  }

  /** false when there was no such file. */
  async remove(chunkId: string): Promise<boolean> {
    // Closed first: an unlinked file's blocks stay taken while a handle holds it open.
    await this.forget(chunkId);
    try {
      await unlink(this.path(chunkId));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.handles.close();
    await this.dirHandle.close();
  }
}

async function writeAt(fh: FileHandle, offset: number, data: Buffer): Promise<void> {
  for (let done = 0; done < data.length; ) done += (await fh.write(data, done, data.length - done, offset + done)).bytesWritten;
}
