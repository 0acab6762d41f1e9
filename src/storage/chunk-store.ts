import { randomBytes } from 'node:crypto';
import { constants as fsConstants, type BigIntStats } from 'node:fs';
import { copyFile, mkdir, open, readdir, readFile, rename, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { ChunkNotFoundError, CorruptChunkError, InsufficientSpaceError } from '../errors.js';
import { BufferPool } from '../wire/buffer-pool.js';
import type { Payload, SpillProvider } from '../wire/spill.js';
import {
  boundaryBlocks,
  BLOCK_BYTES,
  BlockChecker,
  decodeSums,
  describeMismatch,
  encodeSums,
  identityOf,
  READ_BYTES,
  sameIdentity,
  spliceSums,
  sumsOfBuffer,
  sumsOfFile,
  verifyFile,
  type ChunkSums,
  type FileIdentity,
  type Mismatch,
  type Pace,
} from './checksums.js';
import { KeyLock } from './key-lock.js';
import { DirSyncer } from './dir-syncer.js';
import { Quarantine } from './quarantine.js';
import { isSafeId } from './safe-name.js';
import { SpaceAccount } from './space.js';
import { StagedFile } from './staged-file.js';
import { Transactions, type RecoveryReport } from './transactions.js';

// Temp files start with a dot, which no valid chunk id does, so they can never be mistaken
// for (or collide with) a chunk; any left at start-up belong to a store that never finished.
const TEMP_PREFIX = '.store-';
const TEMP_SUFFIX = '.tmp';

// `<chunk_dir>/.meta/<chunk id>.crc`: the checksums of each chunk (see checksums.ts). Temp
// files there start with META_TEMP_PREFIX and are removed at start-up.
export const META_DIR = '.meta';
export const SUMS_SUFFIX = '.crc';
const META_TEMP_PREFIX = '.tmp-';
const SCRUB_MARK = '.last-scrub';

export interface ChunkFile {
  readonly chunkId: string;
  readonly handle: FileHandle;
  readonly size: number;
  /** The sums of exactly the version `handle` reads. */
  readonly sums: ChunkSums;
  /** ChunkStore version of the chunk when it was opened. */
  readonly version: number;
}

/** Where a corruption was found; recorded with the quarantined chunk. */
export type FoundBy = 'retrieve' | 'scrub' | 'append' | 'start-up';

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
  /** Chunks whose sums were missing or belonged to another version (a crash between the two renames, or chunks older than checksums). */
  recomputedSums: number;
  /** Chunks whose sums file was damaged, moved to quarantine at start-up. */
  quarantined: number;
  /** Quarantined chunks not yet reported to the master. */
  corruptPending: number;
}

export interface StoreOptions {
  /** Reused read blocks for verification; a small private pool when absent. */
  readonly pool?: BufferPool;
  /** Where corruption, quarantine and checksum repairs are logged. */
  readonly log?: Logger;
  /**
   * false skips the fsyncs of chunk data and of the chunk directory: faster small stores,
   * but a power loss or kernel crash can lose chunks already acknowledged, or leave them
   * empty (a killed process loses nothing). Default true.
   */
  readonly fsync?: boolean;
}

interface ChunkMeta {
  size: number;
  version: number;
}

/** A new version being built: its data file and its sums file, both temp names until installed. */
export interface NewVersion {
  readonly data: string;
  readonly sums: string;
}

/** Sums of the version a change is built on; no file (an absent chunk) has none. */
export interface BaseSums {
  readonly size: number;
  readonly crcs: Uint32Array;
}

const NO_SUMS: BaseSums = { size: 0, crcs: new Uint32Array(0) };

/**
 * The only code that touches the chunk directory. Every chunk is a plain file named by its
 * id. Every change of a chunk builds its new version in a file of its own, fsyncs it, and
 * renames it over the chunk (`installLocked`), then fsyncs the directory, so a crash at any
 * point leaves the old chunk or the new one, whole.
 *
 * Checksums: each version's sums are computed while it is built, from the bytes written
 * (never read back), stored in `.meta/<id>.crc` naming the file they belong to (inode and
 * birth time, see checksums.ts), and installed right after the data. Sums that name another
 * file (a crash between the two renames, a chunk copied in by hand, or one stored before
 * checksums existed) are recomputed from the chunk and logged; sums that name this very
 * file but disagree with its bytes mean the bytes changed in place: corruption. A damaged
 * sums file leaves the chunk unverifiable, which is treated as corruption too.
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
  private readonly metaSync: DirSyncer;
  private transactionsRef: Transactions | null = null;

  private constructor(
    readonly dir: string,
    readonly space: SpaceAccount,
    private readonly chunks: Map<string, ChunkMeta>,
    private lastVersion: number,
    private readonly dirHandle: FileHandle,
    private readonly metaHandle: FileHandle,
    private readonly quarantine: Quarantine,
    readonly pool: BufferPool,
    private readonly log: Logger,
    private readonly fsync: boolean,
  ) {
    this.dirSync = new DirSyncer(dirHandle);
    this.metaSync = new DirSyncer(metaHandle);
  }

  static async open(dir: string, limitBytes: number, options: StoreOptions = {}): Promise<{ store: ChunkStore; report: StoreOpenReport }> {
    await mkdir(join(dir, META_DIR), { recursive: true });
    const chunks = new Map<string, ChunkMeta>();
    const identities = new Map<string, FileIdentity>();
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
      const st = await stat(path, { bigint: true });
      const size = Number(st.size);
      chunkBytes += size;
      if (!isSafeId(entry.name)) continue;
      chunks.set(entry.name, { size, version: ++lastVersion });
      identities.set(entry.name, identityOf(st));
    }
    const scanned = await Transactions.scan(dir);
    const quarantine = await Quarantine.open(dir);
    const dirHandle = await open(dir, 'r');
    const metaHandle = await open(join(dir, META_DIR), 'r');
    await dirHandle.sync();
    const usedBytes = chunkBytes + scanned.report.preparedBytes;
    const store = new ChunkStore(
      dir,
      new SpaceAccount(limitBytes, usedBytes),
      chunks,
      lastVersion,
      dirHandle,
      metaHandle,
      quarantine,
      options.pool ?? new BufferPool(4 * READ_BYTES),
      options.log ?? pino({ level: 'silent' }),
      options.fsync ?? true,
    );
    const sums = await store.checkSumsAtStart(identities);
    store.transactionsRef = await Transactions.recover(store, scanned);
    return {
      store,
      report: {
        chunks: chunks.size,
        usedBytes: store.space.used,
        removedTempFiles,
        ...sums,
        corruptPending: quarantine.pending.length,
        ...scanned.report,
      },
    };
  }

  /**
   * Every chunk must have sums made for its file: missing or foreign ones are computed now
   * (reading the chunk), damaged ones send the chunk to quarantine. Orphan and temp files
   * in `.meta` are removed.
   */
  private async checkSumsAtStart(identities: Map<string, FileIdentity>): Promise<{ recomputedSums: number; quarantined: number }> {
    let orphans = 0;
    for (const name of await readdir(join(this.dir, META_DIR))) {
      const temp = name.startsWith(META_TEMP_PREFIX);
      if (temp || (name.endsWith(SUMS_SUFFIX) && !this.chunks.has(name.slice(0, -SUMS_SUFFIX.length)))) {
        await unlink(join(this.dir, META_DIR, name));
        orphans++;
      }
    }
    if (orphans > 0) await this.metaHandle.sync();
    let recomputedSums = 0;
    let quarantined = 0;
    for (const [chunkId, identity] of identities) {
      const found = await this.readSums(chunkId, identity);
      if (found.kind === 'ok') continue;
      if (found.kind === 'damaged') {
        await this.quarantineLocked(chunkId, 'start-up', 'checksum file damaged');
        quarantined++;
        continue;
      }
      const handle = await open(this.chunkPath(chunkId), 'r');
      try {
        await this.recomputeSums(chunkId, handle, await handle.stat({ bigint: true }), found.why);
      } finally {
        await handle.close();
      }
      recomputedSums++;
    }
    return { recomputedSums, quarantined };
  }

  async close(): Promise<void> {
    await this.transactions.close();
    await this.dirHandle.close();
    await this.metaHandle.close();
  }

  /** Prepared transactions of this chunk directory (prepare / commit / rollback). */
  get transactions(): Transactions {
    return this.transactionsRef!;
  }

  get chunkCount(): number {
    return this.chunks.size;
  }

  /** The ids of all chunks, as of now. */
  chunkIds(): string[] {
    return [...this.chunks.keys()];
  }

  sizeOf(chunkId: string): number | undefined {
    return this.chunks.get(chunkId)?.size;
  }

  /** Changes whenever the chunk is replaced or deleted; 0 while there is no chunk. */
  versionOf(chunkId: string): number {
    return this.chunks.get(chunkId)?.version ?? 0;
  }

  /** Ids of chunks found corrupt (and quarantined) that the master has not acknowledged yet. */
  corruptChunks(): string[] {
    return this.quarantine.pending;
  }

  /** The master has seen these ids (e.g. in a heartbeat): stop reporting them, across restarts too. */
  async acknowledgeCorrupt(chunkIds: Iterable<string>): Promise<void> {
    try {
      await this.quarantine.acknowledge(chunkIds);
    } catch (err) {
      this.log.warn({ err }, 'cannot mark corrupt chunks as reported; they will be reported again after a restart');
    }
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
        // Nothing is reserved here: the staged file reserves as the bytes arrive.
        if (!this.space.fits(size)) throw new InsufficientSpaceError(this.space.available);
        return new StagedFile(this.newVersionPaths().data, size, this.space, pool);
      },
    };
  }

  /** Stores `data` as chunk `chunkId`, replacing any previous version; durable on return. */
  write(chunkId: string, data: Payload): Promise<void> {
    if (!Buffer.isBuffer(data)) {
      if (!(data instanceof StagedFile)) return Promise.reject(new TypeError('staged data from another store'));
      return this.withChunkLock(chunkId, () => this.installStagedLocked(chunkId, data));
    }
    return this.withChunkLock(chunkId, async () => {
      // An overwrite is charged only for growth; the old bytes go when the rename lands.
      const growth = data.length - (this.sizeOf(chunkId) ?? 0);
      if (!this.space.tryReserve(growth)) throw new InsufficientSpaceError(this.space.available);
      await this.replaceLocked(chunkId, data.length, Math.max(0, growth), (temp) => this.writeNewVersion(temp, data));
    });
  }

  /**
   * Appends `data` at the chunk's true end (creating it if missing), all or nothing: the new
   * version is a copy of the chunk plus `data`, installed like any other. The cost is a full
   * copy of the chunk per append — cheap where the file system clones (btrfs, XFS reflink),
   * a rewrite of up to 64 MiB where it does not — and two fsyncs; in exchange no crash can
   * leave a half-appended chunk under its name. Returns where `data` landed and the new size.
   * A chunk whose last block no longer matches its checksum is quarantined: corrupt_chunk.
   */
  append(chunkId: string, data: Buffer): Promise<{ offset: number; size: number }> {
    return this.withChunkLock(chunkId, async () => {
      const offset = this.sizeOf(chunkId) ?? 0;
      if (!this.space.tryReserve(data.length)) throw new InsufficientSpaceError(this.space.available);
      await this.replaceLocked(chunkId, offset + data.length, data.length, async (temp) => {
        const base = await this.baseSumsLocked(chunkId);
        await this.copyChunkLocked(chunkId, temp.data);
        const built = await this.writeIntoCopy(temp, base, offset, data);
        if ('kind' in built) {
          await this.quarantineLocked(chunkId, 'append', describeMismatch(built));
          throw new CorruptChunkError();
        }
      });
      return { offset, size: offset + data.length };
    });
  }

  /**
   * A staged upload becomes the chunk. It already holds a reservation for all its bytes. Its
   * sums are computed by reading it back once (from the page cache, ~20 ms per 64 MiB): the
   * bytes were written as they arrived, in pieces, before anyone knew which chunk they were.
   * If the install fails, the staged file (its owner) drops the file and the reservation.
   */
  private async installStagedLocked(chunkId: string, staged: StagedFile): Promise<void> {
    await staged.seal(this.fsync);
    const sums = this.newVersionPaths().sums;
    try {
      const handle = await open(staged.path, 'r');
      try {
        const identity = identityOf(await handle.stat({ bigint: true }));
        const crcs = await sumsOfFile(handle, staged.size, this.pool);
        await writeSumsFile(sums, { size: staged.size, crcs, identity });
      } finally {
        await handle.close();
      }
      await this.installLocked(chunkId, { data: staged.path, sums }, staged.size, staged.size, null, () => staged.adopted());
    } catch (err) {
      await unlink(sums).catch(() => undefined);
      throw err;
    }
  }

  /** Temp names for a new version of a chunk: data in the chunk directory, sums in `.meta`. */
  private newVersionPaths(): NewVersion {
    const tag = randomBytes(8).toString('hex');
    return { data: join(this.dir, `${TEMP_PREFIX}${tag}${TEMP_SUFFIX}`), sums: join(this.dir, META_DIR, `${META_TEMP_PREFIX}${tag}`) };
  }

  /** Builds a new version of the chunk in temp files with `build`, then installs it. Caller holds the chunk lock and `reserved`. */
  private async replaceLocked(chunkId: string, size: number, reserved: number, build: (temp: NewVersion) => Promise<void>): Promise<void> {
    const temp = this.newVersionPaths();
    try {
      await build(temp);
    } catch (err) {
      await removeQuietly(temp);
      this.space.release(reserved);
      throw err;
    }
    await this.installLocked(chunkId, temp, size, reserved, null);
  }

  /**
   * Commits a prepared version as the chunk (caller holds the chunk lock). The transaction's
   * reservation of `size` becomes the chunk's bytes and the old version's are freed. If the
   * rename fails nothing changed: the files and their reservation stay with the transaction.
   */
  installPreparedLocked(chunkId: string, src: NewVersion, size: number, syncSrcDir: () => Promise<void>): Promise<void> {
    return this.installLocked(chunkId, src, size, size, syncSrcDir);
  }

  /**
   * The one way a chunk changes content: `src.data` (complete and fsynced, on this file
   * system) is renamed over the chunk, then `src.sums` over its sums, and the directories
   * are fsynced. Data goes first because a failure between the two renames must not leave
   * the old chunk without valid sums: the new data under old sums is seen as foreign sums
   * (another inode) and recomputed from the new bytes, which were just written and fsynced;
   * a crash between them is read the same way at start-up. Readers take the chunk lock to
   * open a chunk with its sums, so none sees the two renames apart.
   * `reserved` is what the caller holds in the space account for the new version; afterwards
   * the account holds exactly the new size in place of the old. `syncSrcDir` fsyncs the
   * folder the files left when it is not ours (their removal must be durable too); temp
   * files (no syncSrcDir) and their reservation are discarded if the rename fails.
   */
  private async installLocked(
    chunkId: string,
    src: NewVersion,
    size: number,
    reserved: number,
    syncSrcDir: (() => Promise<void>) | null,
    /** Set for a staged upload: it owns `src.data` and its reservation until the rename lands. */
    adopted?: () => void,
  ): Promise<void> {
    try {
      await rename(src.data, this.chunkPath(chunkId));
    } catch (err) {
      if (syncSrcDir === null && !adopted) {
        await removeQuietly(src);
        this.space.release(reserved);
      }
      throw err;
    }
    adopted?.();
    const oldSize = this.sizeOf(chunkId) ?? 0;
    this.chunks.set(chunkId, { size, version: ++this.lastVersion });
    this.space.release(oldSize + reserved - size);
    try {
      await rename(src.sums, this.sumsPath(chunkId));
    } catch (err) {
      this.log.warn({ err, chunk_id: chunkId }, 'cannot install checksums; they will be recomputed from the chunk');
      if (syncSrcDir === null) await unlink(src.sums).catch(() => undefined);
    }
    // A good copy replaced the corrupt one: the master need not hear about the old one.
    if (this.quarantine.has(chunkId)) await this.acknowledgeCorrupt([chunkId]);
    if (this.fsync) await Promise.all([this.dirSync.sync(), this.metaSync.sync(), syncSrcDir?.()]);
  }

  /**
   * Writes `data` as a new file `to.data`, and its sums (computed from `data` while it is
   * being written, never read back) as `to.sums`; both fsynced.
   */
  async writeNewVersion(to: NewVersion, data: Buffer): Promise<void> {
    const fh = await open(to.data, 'wx', 0o644);
    try {
      const identity = identityOf(await fh.stat({ bigint: true }));
      const results = await Promise.allSettled([
        fh.writeFile(data).then(() => (this.fsync ? fh.sync() : undefined)),
        sumsOfBuffer(data).then((crcs) => writeSumsFile(to.sums, { size: data.length, crcs, identity })),
      ]);
      for (const r of results) if (r.status === 'rejected') throw r.reason;
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

  /**
   * The sums of the chunk's current version, for a change built on it (caller holds the chunk
   * lock); empty when there is no chunk. A chunk whose sums are damaged is quarantined.
   */
  async baseSumsLocked(chunkId: string): Promise<BaseSums> {
    if (!this.chunks.has(chunkId)) return NO_SUMS;
    const file = await this.openLocked(chunkId, 'append');
    await file.handle.close();
    return file.sums;
  }

  /**
   * Turns `at.data`, a copy of a version whose sums are `base`, into the new version: the
   * boundary blocks whose old bytes survive are checked against `base` first, then `data` is
   * written at `offset` and fsynced, and the sums written to `at.sums` (untouched blocks keep
   * their old sums; see spliceSums). Returns the mismatch instead if the copy's surviving
   * bytes are not what `base` says: the version it was copied from is corrupt.
   */
  async writeIntoCopy(at: NewVersion, base: BaseSums, offset: number, data: Buffer): Promise<ChunkSums | Mismatch> {
    const fh = await open(at.data, 'r+');
    try {
      const st = await fh.stat({ bigint: true });
      if (Number(st.size) !== base.size) return { kind: 'size', expected: base.size, actual: Number(st.size) };
      const checker = new BlockChecker(base.crcs);
      const boundary = new Map<number, Buffer>();
      for (const block of boundaryBlocks(base.size, offset, data.length)) {
        const start = block * BLOCK_BYTES;
        const bytes = Buffer.allocUnsafe(Math.min(BLOCK_BYTES, base.size - start));
        const { bytesRead } = await fh.read(bytes, 0, bytes.length, start);
        const mismatch = bytesRead === bytes.length ? checker.check(bytes, start) : { kind: 'size' as const, expected: base.size, actual: start + bytesRead };
        if (mismatch) return mismatch;
        boundary.set(block, bytes);
      }
      for (let done = 0; done < data.length; ) done += (await fh.write(data, done, data.length - done, offset + done)).bytesWritten;
      await fh.sync();
      const size = Math.max(base.size, offset + data.length);
      const sums: ChunkSums = { size, crcs: spliceSums(base.crcs, base.size, offset, data, boundary), identity: identityOf(st) };
      await writeSumsFile(at.sums, sums);
      return sums;
    } finally {
      await fh.close();
    }
  }

  private chunkPath(chunkId: string): string {
    return join(this.dir, chunkId);
  }

  private sumsPath(chunkId: string): string {
    return join(this.dir, META_DIR, chunkId + SUMS_SUFFIX);
  }

  /** The recorded sums, if they are whole and belong to the file `identity` names. */
  private async readSums(
    chunkId: string,
    identity: FileIdentity,
  ): Promise<{ kind: 'ok'; sums: ChunkSums } | { kind: 'damaged' } | { kind: 'recompute'; why: string }> {
    let raw: Buffer;
    try {
      raw = await readFile(this.sumsPath(chunkId));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'recompute', why: 'missing' };
      throw err;
    }
    const decoded = decodeSums(raw);
    if (decoded.kind === 'damaged') return decoded;
    if (decoded.kind === 'stale') return { kind: 'recompute', why: 'older format' };
    if (!sameIdentity(decoded.sums.identity, identity)) return { kind: 'recompute', why: 'made for another version of the chunk' };
    return decoded;
  }

  /** Sums of what the chunk holds now, recorded for it. Caller holds the chunk lock (or runs at start-up). */
  private async recomputeSums(chunkId: string, handle: FileHandle, st: BigIntStats, why: string): Promise<ChunkSums> {
    const size = Number(st.size);
    const sums: ChunkSums = { size, crcs: await sumsOfFile(handle, size, this.pool), identity: identityOf(st) };
    // Missing sums are expected for every chunk of a directory from before checksums (start-up
    // logs their count); sums of another version only after a crash or a hand-made change.
    const level = why === 'missing' ? 'debug' : 'warn';
    this.log[level]({ chunk_id: chunkId, why }, 'checksums recomputed from the chunk as it is');
    const temp = join(this.dir, META_DIR, `${META_TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
    try {
      await writeSumsFile(temp, sums);
      await rename(temp, this.sumsPath(chunkId));
    } catch (err) {
      // The sums are still good for this read; the next one computes them again.
      await unlink(temp).catch(() => undefined);
      this.log.warn({ err, chunk_id: chunkId }, 'cannot record recomputed checksums');
    }
    return sums;
  }

  /**
   * Opens a chunk for reading, with its sums. The handle keeps reading the version that was
   * current when it was opened even if a store replaces it meanwhile (renames swap whole
   * files); the chunk lock makes handle and sums belong to the same version. A chunk whose
   * sums file is damaged cannot be verified: it is quarantined and CorruptChunkError thrown.
   */
  openForRead(chunkId: string): Promise<ChunkFile> {
    return this.withChunkLock(chunkId, () => this.openLocked(chunkId, 'retrieve'));
  }

  private async openLocked(chunkId: string, foundBy: FoundBy): Promise<ChunkFile> {
    let handle: FileHandle;
    try {
      handle = await open(this.chunkPath(chunkId), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ChunkNotFoundError();
      throw err;
    }
    try {
      const st = await handle.stat({ bigint: true });
      const found = await this.readSums(chunkId, identityOf(st));
      if (found.kind === 'damaged') {
        await this.quarantineLocked(chunkId, foundBy, 'checksum file damaged');
        throw new CorruptChunkError();
      }
      const sums = found.kind === 'ok' ? found.sums : await this.recomputeSums(chunkId, handle, st, found.why);
      return { chunkId, handle, size: Number(st.size), sums, version: this.versionOf(chunkId) };
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /**
   * Reads all of an opened chunk and checks it against its sums (at the pace `pace` allows).
   * On a mismatch the chunk is quarantined and CorruptChunkError thrown; the handle stays
   * open either way, for the caller to close.
   */
  async verify(file: ChunkFile, foundBy: FoundBy, pace?: Pace): Promise<void> {
    const mismatch = await verifyFile(file.handle, file.size, file.sums, this.pool, pace);
    if (mismatch) {
      await this.condemn(file, foundBy, mismatch);
      throw new CorruptChunkError();
    }
  }

  /**
   * Quarantines the version of a chunk found not to match its sums, unless it was replaced
   * or deleted meanwhile (the damage went with it).
   */
  condemn(file: { chunkId: string; version: number }, foundBy: FoundBy, mismatch: Mismatch): Promise<void> {
    return this.withChunkLock(file.chunkId, async () => {
      if (this.versionOf(file.chunkId) !== file.version) {
        this.log.warn({ chunk_id: file.chunkId, found_by: foundBy, mismatch: describeMismatch(mismatch) }, 'corrupt version of a chunk was already replaced');
        return;
      }
      await this.quarantineLocked(file.chunkId, foundBy, describeMismatch(mismatch));
    });
  }

  /**
   * Moves the chunk and its sums to `.quarantine/`, frees its space and, once that is done,
   * lists it for the master. Never throws: if the move fails the chunk stays where it is,
   * still reported, and every read of it keeps failing verification.
   */
  private async quarantineLocked(chunkId: string, foundBy: FoundBy, reason: string): Promise<void> {
    const size = this.sizeOf(chunkId);
    const entry = this.quarantine.newEntry(chunkId);
    let moveError: unknown = null;
    try {
      await this.quarantine.admit(entry, chunkId, this.chunkPath(chunkId), this.sumsPath(chunkId), {
        found_by: foundBy,
        reason,
        size,
        detected_at: new Date().toISOString(),
      });
    } catch (err) {
      moveError = err;
    }
    const moved = (await this.identityOf(chunkId).catch(() => undefined)) === null;
    if (moved) {
      this.chunks.delete(chunkId);
      this.space.release(size ?? 0);
      await Promise.all([this.dirHandle.sync(), this.metaHandle.sync()]).catch(() => undefined);
    }
    this.log.error(
      { chunk_id: chunkId, found_by: foundBy, reason, bytes: size, quarantined: moved, ...(moveError ? { err: moveError } : {}) },
      moved ? 'corrupt chunk moved to quarantine' : 'corrupt chunk could not be moved to quarantine',
    );
    this.quarantine.remember(chunkId, entry);
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
      // Left behind, the sums are an orphan that start-up removes.
      await unlink(this.sumsPath(chunkId)).catch(() => undefined);
      if (existed && this.fsync) await this.dirSync.sync();
      return existed;
    });
  }

  /**
   * Start-up: makes sure a prepared version's sums were made for its data file; missing or
   * unusable ones (a transaction prepared before checksums existed) are computed from it.
   */
  async repairPreparedSums(v: NewVersion): Promise<void> {
    const handle = await open(v.data, 'r');
    try {
      const st = await handle.stat({ bigint: true });
      const decoded = await readFile(v.sums).then(decodeSums, (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return null;
        throw err;
      });
      if (decoded?.kind === 'ok' && sameIdentity(decoded.sums.identity, identityOf(st))) return;
      const size = Number(st.size);
      const sums: ChunkSums = { size, crcs: await sumsOfFile(handle, size, this.pool), identity: identityOf(st) };
      const temp = `${v.sums}${TEMP_SUFFIX}`;
      await unlink(temp).catch(() => undefined);
      await writeSumsFile(temp, sums);
      await rename(temp, v.sums);
      this.log.warn({ data: v.data, why: decoded?.kind ?? 'missing' }, 'checksums of a prepared transaction recomputed');
    } finally {
      await handle.close();
    }
  }

  /** When the last complete scrub pass started (ms since the epoch), if any was recorded. */
  async lastScrub(): Promise<number | null> {
    try {
      const v = (JSON.parse(await readFile(join(this.dir, META_DIR, SCRUB_MARK), 'utf8')) as { started_at?: unknown }).started_at;
      return typeof v === 'number' && Number.isFinite(v) ? v : null;
    } catch {
      return null;
    }
  }

  /** Records the start of the last complete scrub pass; not fsynced (a lost mark only moves one pass). */
  async recordScrub(startedAt: number): Promise<void> {
    const temp = join(this.dir, META_DIR, `${META_TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
    try {
      await writeFile(temp, JSON.stringify({ started_at: startedAt }) + '\n');
      await rename(temp, join(this.dir, META_DIR, SCRUB_MARK));
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      throw err;
    }
  }
}

/** Creates `path` holding `sums`, fsynced (trusted once renamed into place or vouched for by a sidecar). */
export async function writeSumsFile(path: string, sums: ChunkSums): Promise<void> {
  const fh = await open(path, 'wx', 0o644);
  try {
    await fh.writeFile(encodeSums(sums));
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function removeQuietly(v: NewVersion): Promise<void> {
  await Promise.all([unlink(v.data).catch(() => undefined), unlink(v.sums).catch(() => undefined)]);
}
