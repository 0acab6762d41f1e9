import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ChunkNotFoundError, InsufficientSpaceError } from '../errors.js';
import type { BufferPool } from '../wire/buffer-pool.js';
import type { Payload, SpillProvider } from '../wire/spill.js';
import { KeyLock } from './key-lock.js';
import { isSafeId } from './safe-name.js';
import { SpaceAccount } from './space.js';
import { DirSyncer } from './dir-syncer.js';
import { StagedFile } from './staged-file.js';

// Temp files start with a dot, which no valid chunk id does, so they can never be mistaken
// for (or collide with) a chunk; any left at start-up belong to a store that never finished.
const TEMP_PREFIX = '.store-';
const TEMP_SUFFIX = '.tmp';

export interface ChunkFile {
  readonly handle: FileHandle;
  readonly size: number;
}

export interface StoreOptions {
  /**
   * false skips every fsync (file data and directory): faster small stores, but a power loss
   * or kernel crash can lose chunks already acknowledged, or leave them empty. Default true.
   */
  readonly fsync?: boolean;
}

export interface StoreOpenReport {
  chunks: number;
  usedBytes: number;
  removedTempFiles: number;
}

/**
 * The only code that touches the chunk directory. Every chunk is a plain file named by its
 * id. A write lands in a temp file that is fsynced, renamed over the final name, and the
 * directory fsynced, so a crash at any point leaves the old chunk or the new one, whole.
 */
export class ChunkStore {
  private readonly lock = new KeyLock();
  private readonly dirSync: DirSyncer;

  private constructor(
    readonly dir: string,
    readonly space: SpaceAccount,
    private readonly sizes: Map<string, number>,
    private readonly dirHandle: FileHandle,
    private readonly fsync: boolean,
  ) {
    this.dirSync = new DirSyncer(dirHandle);
  }

  static async open(dir: string, limitBytes: number, options: StoreOptions = {}): Promise<{ store: ChunkStore; report: StoreOpenReport }> {
    await mkdir(dir, { recursive: true });
    const sizes = new Map<string, number>();
    let usedBytes = 0;
    let removedTempFiles = 0;
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const path = join(dir, entry.name);
      if (entry.name.startsWith(TEMP_PREFIX) && entry.name.endsWith(TEMP_SUFFIX)) {
        await unlink(path);
        removedTempFiles++;
        continue;
      }
      const { size } = await stat(path);
      usedBytes += size;
      if (isSafeId(entry.name)) sizes.set(entry.name, size);
    }
    const dirHandle = await open(dir, 'r');
    if (removedTempFiles > 0) await dirHandle.sync();
    const store = new ChunkStore(dir, new SpaceAccount(limitBytes, usedBytes), sizes, dirHandle, options.fsync ?? true);
    return { store, report: { chunks: sizes.size, usedBytes, removedTempFiles } };
  }

  async close(): Promise<void> {
    await this.dirHandle.close();
  }

  get chunkCount(): number {
    return this.sizes.size;
  }

  sizeOf(chunkId: string): number | undefined {
    return this.sizes.get(chunkId);
  }

  /** Runs `work` while no other store, delete or commit of this chunk runs. */
  withChunkLock<T>(chunkId: string, work: () => Promise<T>): Promise<T> {
    return this.lock.run(chunkId, work);
  }

  /**
   * Where large incoming values go while their frame arrives: a temp file in this directory,
   * its full size reserved up front (refused with insufficient_space when it does not fit).
   */
  spillProvider(pool: BufferPool): SpillProvider {
    return {
      open: (size) => {
        if (!this.space.tryReserve(size)) throw new InsufficientSpaceError(this.space.available);
        return new StagedFile(this.tempPath(), size, this.space, pool);
      },
    };
  }

  /** Stores `data` as chunk `chunkId`, replacing any previous version; durable on return. */
  write(chunkId: string, data: Payload): Promise<void> {
    if (Buffer.isBuffer(data)) return this.withChunkLock(chunkId, () => this.writeLocked(chunkId, data));
    if (!(data instanceof StagedFile)) return Promise.reject(new TypeError('staged data from another store'));
    return this.withChunkLock(chunkId, () => this.installLocked(chunkId, data));
  }

  /** The staged file already holds a reservation for all its bytes; the old version's go. */
  private async installLocked(chunkId: string, staged: StagedFile): Promise<void> {
    const oldSize = this.sizeOf(chunkId) ?? 0;
    await staged.seal(this.fsync);
    await rename(staged.path, join(this.dir, chunkId));
    staged.adopted();
    this.sizes.set(chunkId, staged.size);
    this.space.release(oldSize);
    await this.syncDir();
  }

  private async writeLocked(chunkId: string, data: Buffer): Promise<void> {
    const oldSize = this.sizes.get(chunkId) ?? 0;
    // An overwrite is charged only for growth; the old bytes go when the rename lands.
    const growth = data.length - oldSize;
    if (!this.space.tryReserve(growth)) throw new InsufficientSpaceError(this.space.available);
    const temp = this.tempPath();
    try {
      await this.writeDurably(temp, data);
      await rename(temp, join(this.dir, chunkId));
      await this.syncDir();
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      this.space.release(Math.max(0, growth));
      throw err;
    }
    this.sizes.set(chunkId, data.length);
    if (growth < 0) this.space.release(-growth);
  }

  private async syncDir(): Promise<void> {
    if (this.fsync) await this.dirSync.sync();
  }

  private tempPath(): string {
    return join(this.dir, `${TEMP_PREFIX}${randomBytes(8).toString('hex')}${TEMP_SUFFIX}`);
  }

  private async writeDurably(path: string, data: Buffer): Promise<void> {
    // O_DSYNC: each write returns once its data, and the size needed to read it back, are
    // on disk (as write + fdatasync would, which is all a new file needs), in one call less.
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (this.fsync ? constants.O_DSYNC : 0);
    const fh = await open(path, flags, 0o644);
    try {
      for (let done = 0; done < data.length; ) done += (await fh.write(data, done, data.length - done, done)).bytesWritten;
    } finally {
      await fh.close();
    }
  }

  /**
   * A small chunk read whole into `into`: open, one read, close; returns its length. The size
   * comes from the in-memory index, and reading one byte more than that tells whether a store
   * replaced it with a larger one meanwhile. Null when the chunk is not known to fit in
   * `into` with that byte to spare: the caller streams it instead.
   */
  async readSmall(chunkId: string, into: Buffer): Promise<number | null> {
    const known = this.sizeOf(chunkId);
    if (known === undefined || known >= into.length) return null;
    let handle: FileHandle;
    try {
      handle = await open(join(this.dir, chunkId), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ChunkNotFoundError();
      throw err;
    }
    try {
      const { bytesRead } = await handle.read(into, 0, known + 1, 0);
      return bytesRead > known ? null : bytesRead;
    } finally {
      await handle.close();
    }
  }

  /**
   * Opens a chunk for reading. The handle keeps reading the version that was current when it
   * was opened even if a store replaces it meanwhile (renames swap whole files).
   */
  async openForRead(chunkId: string): Promise<ChunkFile> {
    let handle: FileHandle;
    try {
      handle = await open(join(this.dir, chunkId), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ChunkNotFoundError();
      throw err;
    }
    try {
      const { size } = await handle.stat();
      return { handle, size };
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /** Removes a chunk; false when there was none. */
  delete(chunkId: string): Promise<boolean> {
    return this.withChunkLock(chunkId, async () => {
      let existed = true;
      try {
        await unlink(join(this.dir, chunkId));
        await this.syncDir();
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        existed = false;
      }
      this.space.release(this.sizes.get(chunkId) ?? 0);
      this.sizes.delete(chunkId);
      return existed;
    });
  }
}
