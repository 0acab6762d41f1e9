import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { copyFile, mkdir, open, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ChunkNotFoundError, InsufficientSpaceError } from '../errors.js';
import type { BufferPool } from '../wire/buffer-pool.js';
import type { Payload, SpillProvider } from '../wire/spill.js';
import { DirSyncer } from './dir-syncer.js';
import { KeyLock } from './key-lock.js';
import { isSafeId } from './safe-name.js';
import { SpaceAccount } from './space.js';
import { StagedFile } from './staged-file.js';
import { Transactions, type RecoveryReport } from './transactions.js';

// Temp files start with a dot, which no valid chunk id does, so they can never be mistaken
// for (or collide with) a chunk; any left at start-up belong to a store that never finished.
const TEMP_PREFIX = '.store-';
const TEMP_SUFFIX = '.tmp';

export interface ChunkFile {
  readonly handle: FileHandle;
  readonly size: number;
}

/**
 * What identifies one version of a chunk file across restarts. Every install renames a new
 * file over the chunk, so a new version is a new inode; size and the nanosecond mtime guard
 * against the file system reusing a freed inode number for a later version.
 */
export interface ChunkIdentity {
  size: number;
  ino: string;
  mtime_ns: string;
}

export interface StoreOpenReport extends RecoveryReport {
  chunks: number;
  usedBytes: number;
  removedTempFiles: number;
}

export interface StoreOptions {
  /**
   * false skips every fsync (chunk and prepared data, and the directory): faster small
   * stores, but a power loss or kernel crash can lose chunks already acknowledged, or leave
   * them empty (a killed process loses nothing). Default true.
   */
  readonly fsync?: boolean;
}

/** A finished new version of a chunk, ready to be renamed over it. */
interface InstallSource {
  readonly path: string;
  readonly size: number;
  /** What the caller holds in the space account for the new version. */
  readonly reserved: number;
  /** A failed rename unlinks `path` and releases `reserved` (temp files this store made). */
  readonly discardOnFailure: boolean;
  /** fsyncs the folder `path` left when it is not the chunk directory. */
  readonly syncSrcDir?: () => Promise<void>;
}

interface ChunkMeta {
  size: number;
  version: number;
}

/**
 * The only code that touches the chunk directory. Every chunk is a plain file named by its
 * id. Every change of a chunk builds its new version in a file of its own, fsyncs it, and
 * renames it over the chunk (`installLocked`), then fsyncs the directory, so a crash at any
 * point leaves the old chunk or the new one, whole.
 *
 * Versions: each install or delete gives the chunk a fresh number from one in-memory counter
 * (0 = no chunk). Prepared appends record the number they were built on and commit only if
 * it is unchanged. A counter, unlike (inode, size), cannot be fooled by inode reuse; it does
 * not survive a restart, so prepared appends reloaded at start-up are matched by
 * `ChunkIdentity` once and then get the chunk's new number.
 */
export class ChunkStore {
  private readonly lock = new KeyLock();
  private readonly dirSync: DirSyncer;
  private transactionsRef: Transactions | null = null;

  private constructor(
    readonly dir: string,
    readonly space: SpaceAccount,
    private readonly chunks: Map<string, ChunkMeta>,
    private lastVersion: number,
    private readonly dirHandle: FileHandle,
    private readonly fsync: boolean,
  ) {
    this.dirSync = new DirSyncer(dirHandle);
  }

  static async open(dir: string, limitBytes: number, options: StoreOptions = {}): Promise<{ store: ChunkStore; report: StoreOpenReport }> {
    await mkdir(dir, { recursive: true });
    const chunks = new Map<string, ChunkMeta>();
    let lastVersion = 0;
    let chunkBytes = 0;
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
      chunkBytes += size;
      if (isSafeId(entry.name)) chunks.set(entry.name, { size, version: ++lastVersion });
    }
    const scanned = await Transactions.scan(dir);
    const dirHandle = await open(dir, 'r');
    if (removedTempFiles > 0) await dirHandle.sync();
    const usedBytes = chunkBytes + scanned.report.preparedBytes;
    const store = new ChunkStore(dir, new SpaceAccount(limitBytes, usedBytes), chunks, lastVersion, dirHandle, options.fsync ?? true);
    store.transactionsRef = await Transactions.recover(store, scanned);
    return { store, report: { chunks: chunks.size, usedBytes, removedTempFiles, ...scanned.report } };
  }

  async close(): Promise<void> {
    await this.transactions.close();
    await this.dirHandle.close();
  }

  /** Prepared transactions of this chunk directory (prepare / commit / rollback). */
  get transactions(): Transactions {
    return this.transactionsRef!;
  }

  get chunkCount(): number {
    return this.chunks.size;
  }

  sizeOf(chunkId: string): number | undefined {
    return this.chunks.get(chunkId)?.size;
  }

  /** Changes whenever the chunk is replaced or deleted; 0 while there is no chunk. */
  versionOf(chunkId: string): number {
    return this.chunks.get(chunkId)?.version ?? 0;
  }

  /** The on-disk identity of the chunk's current version; null when there is no chunk. */
  async identityOf(chunkId: string): Promise<ChunkIdentity | null> {
    try {
      const st = await stat(this.chunkPath(chunkId), { bigint: true });
      return { size: Number(st.size), ino: st.ino.toString(), mtime_ns: st.mtimeNs.toString() };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  /** Runs `work` while no other store, delete, append or commit of this chunk runs. */
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
    if (!Buffer.isBuffer(data)) {
      if (!(data instanceof StagedFile)) return Promise.reject(new TypeError('staged data from another store'));
      return this.withChunkLock(chunkId, async () => {
        // The staged file holds a reservation for all its bytes; the old version's go. If
        // the rename fails, the staged file (its owner) drops the file and the reservation.
        await data.seal(this.fsync);
        await this.installLocked(chunkId, { path: data.path, size: data.size, reserved: data.size, discardOnFailure: false });
        data.adopted();
      });
    }
    return this.withChunkLock(chunkId, async () => {
      // An overwrite is charged only for growth; the old bytes go when the rename lands.
      const growth = data.length - (this.sizeOf(chunkId) ?? 0);
      if (!this.space.tryReserve(growth)) throw new InsufficientSpaceError(this.space.available);
      await this.replaceLocked(chunkId, data.length, Math.max(0, growth), (temp) => this.writeNewFile(temp, data));
    });
  }

  /**
   * Appends `data` at the chunk's true end (creating it if missing), all or nothing: the new
   * version is a copy of the chunk plus `data`, installed like any other. The cost is a full
   * copy of the chunk per append — cheap where the file system clones (btrfs, XFS reflink),
   * a rewrite of up to 64 MiB where it does not — and two fsyncs; in exchange no crash can
   * leave a half-appended chunk under its name. Returns where `data` landed and the new size.
   */
  append(chunkId: string, data: Buffer): Promise<{ offset: number; size: number }> {
    return this.withChunkLock(chunkId, async () => {
      const offset = this.sizeOf(chunkId) ?? 0;
      if (!this.space.tryReserve(data.length)) throw new InsufficientSpaceError(this.space.available);
      await this.replaceLocked(chunkId, offset + data.length, data.length, async (temp) => {
        await this.copyChunkLocked(chunkId, temp);
        await this.writeAt(temp, data, offset);
      });
      return { offset, size: offset + data.length };
    });
  }

  /** Builds a new version of the chunk in a temp file with `build`, then installs it. Caller holds the chunk lock and `reserved`. */
  private async replaceLocked(chunkId: string, size: number, reserved: number, build: (temp: string) => Promise<void>): Promise<void> {
    const temp = this.tempPath();
    try {
      await build(temp);
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      this.space.release(reserved);
      throw err;
    }
    await this.installLocked(chunkId, { path: temp, size, reserved, discardOnFailure: true });
  }

  private tempPath(): string {
    return join(this.dir, `${TEMP_PREFIX}${randomBytes(8).toString('hex')}${TEMP_SUFFIX}`);
  }

  /**
   * Commits a prepared file as the chunk (caller holds the chunk lock). The transaction's
   * reservation of `size` becomes the chunk's bytes and the old version's are freed. If the
   * rename fails nothing changed: the file and its reservation stay with the transaction.
   */
  installPreparedLocked(chunkId: string, src: string, size: number, syncSrcDir: () => Promise<void>): Promise<void> {
    return this.installLocked(chunkId, { path: src, size, reserved: size, discardOnFailure: false, syncSrcDir });
  }

  /**
   * The one way a chunk changes content: `src.path` (complete and fsynced, on this file
   * system) is renamed over the chunk and the directories are fsynced. Afterwards the space
   * account holds exactly the new size in place of the old and of `src.reserved`.
   */
  private async installLocked(chunkId: string, src: InstallSource): Promise<void> {
    try {
      await rename(src.path, this.chunkPath(chunkId));
    } catch (err) {
      if (src.discardOnFailure) {
        await unlink(src.path).catch(() => undefined);
        this.space.release(src.reserved);
      }
      throw err;
    }
    const oldSize = this.sizeOf(chunkId) ?? 0;
    this.chunks.set(chunkId, { size: src.size, version: ++this.lastVersion });
    this.space.release(oldSize + src.reserved - src.size);
    await Promise.all([this.syncDir(), this.fsync ? src.syncSrcDir?.() : undefined]);
  }

  private async syncDir(): Promise<void> {
    if (this.fsync) await this.dirSync.sync();
  }

  /** Creates `path` holding exactly `data`, on disk when it returns (unless fsync is off). */
  async writeNewFile(path: string, data: Buffer): Promise<void> {
    // O_DSYNC: each write returns once its data, and the size needed to read it back, are
    // on disk (as write + fdatasync would, which is all a new file needs), in one call less.
    const flags = fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | (this.fsync ? fsConstants.O_DSYNC : 0);
    const fh = await open(path, flags, 0o644);
    try {
      for (let done = 0; done < data.length; ) done += (await fh.write(data, done, data.length - done, done)).bytesWritten;
    } finally {
      await fh.close();
    }
  }

  /**
   * Copies the chunk's current version to the new file `dest` with the kernel (a clone where
   * the file system supports it), never through our memory; an absent chunk copies as empty.
   * Caller holds the chunk lock, so the copy is of one version.
   */
  async copyChunkLocked(chunkId: string, dest: string): Promise<void> {
    if (this.chunks.has(chunkId)) {
      await copyFile(this.chunkPath(chunkId), dest, fsConstants.COPYFILE_EXCL | fsConstants.COPYFILE_FICLONE);
    } else {
      await (await open(dest, 'wx', 0o644)).close();
    }
  }

  /** Writes `data` into the existing file `path` at `offset` and fsyncs all of it. */
  async writeAt(path: string, data: Buffer, offset: number): Promise<void> {
    const fh = await open(path, 'r+');
    try {
      let done = 0;
      while (done < data.length) {
        const { bytesWritten } = await fh.write(data, done, data.length - done, offset + done);
        done += bytesWritten;
      }
      if (this.fsync) await fh.sync();
    } finally {
      await fh.close();
    }
  }

  private chunkPath(chunkId: string): string {
    return join(this.dir, chunkId);
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
      handle = await open(this.chunkPath(chunkId), 'r');
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
      handle = await open(this.chunkPath(chunkId), 'r');
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
        await unlink(this.chunkPath(chunkId));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        existed = false;
      }
      this.space.release(this.sizeOf(chunkId) ?? 0);
      this.chunks.delete(chunkId);
      if (existed) await this.syncDir();
      return existed;
    });
  }
}
