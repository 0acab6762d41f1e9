import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pino, type Logger } from 'pino';
import { ChunkNotFoundError, CorruptChunkError, InsufficientSpaceError } from '../errors.js';
import { BufferPool } from '../wire/buffer-pool.js';
import type { Payload, SpillProvider } from '../wire/spill.js';
import {
  BLOCK_BYTES,
  BlockChecker,
  boundaryBlocks,
  decodeSums,
  describeMismatch,
  encodeSums,
  identityOf,
  READ_BYTES,
  sameIdentity,
  spliceSums,
  sumsOfFile,
  verifyFile,
  type ChunkSums,
  type Mismatch,
  type Pace,
} from './checksums.js';
import { ChunkFiles, type WrittenFile } from './chunk-files.js';
import { ChunkRecords, type ChunkRecord } from './chunk-records.js';
import { META_DIR, recoverChunks, type RecoveredChunks } from './chunk-recovery.js';
import { crashPoint } from './crash-points.js';
import { KeyLock } from './key-lock.js';
import { Quarantine } from './quarantine.js';
import { charge, chargeDelta, SpaceAccount } from './space.js';
import { StagedFile } from './staged-file.js';
import { Transactions, type RecoveryReport } from './transactions.js';

export { META_DIR };
const SCRUB_MARK = '.last-scrub';

/** What the cluster knows of a chunk (INTERFACES.md). */
export interface ChunkSummary {
  chunk_id: string;
  length: number;
  version: number;
  digest: string;
}
export type ChunkChange = ChunkSummary | { chunk_id: string; deleted: true };

export interface ChunkFile {
  readonly chunkId: string;
  readonly handle: FileHandle;
  /** The committed length when it was opened: nothing past it is read. */
  readonly size: number;
  readonly sums: ChunkSums;
  readonly version: number;
}

/** Where a corruption was found; recorded with the quarantined chunk. */
export type FoundBy = 'retrieve' | 'scrub' | 'append' | 'start-up';

/** What identifies one version of a v1 chunk file (v1 prepared appends name their base by it). */
export interface ChunkIdentity {
  size: number;
  ino: string;
  mtime_ns: string;
}

export interface StoreOpenReport extends RecoveryReport, Omit<RecoveredChunks['report'], 'chunks'> {
  chunks: number;
  usedBytes: number;
  quarantined: number;
  corruptPending: number;
}

export interface StoreOptions {
  readonly pool?: BufferPool;
  readonly log?: Logger;
  /**
   * false skips the fsyncs of chunk data and of the chunk directory: faster small stores,
   * but a power loss or kernel crash can lose chunks already acknowledged (a killed process
   * loses nothing). The metadata store always flushes. Default true.
   */
  readonly fsync?: boolean;
  /** Pending prepared transactions at most (`[chunk_server] max_prepared`); default 1000. */
  readonly maxPrepared?: number;
}

/** A new version being built as a whole file with its v1-style sums file (prepare_chunk). */
export interface NewVersion {
  readonly data: string;
  readonly sums: string;
}

/** Digest of (committed length, block sums): equal bytes give equal digests, whatever the history. */
export function digestOf(size: number, crcs: Uint32Array): string {
  const head = Buffer.alloc(8);
  head.writeBigUInt64BE(BigInt(size));
  const body = Buffer.alloc(crcs.length * 4);
  crcs.forEach((c, i) => body.writeUInt32BE(c, i * 4));
  return createHash('sha256').update(head).update(body).digest('hex').slice(0, 32);
}

function nextVersion(old: ChunkRecord | undefined, requested: number | undefined): number {
  return requested ?? (old?.version ?? 0) + 1;
}

/**
 * The storage facade handlers get as `ctx.store`. Chunk data are plain files (ChunkFiles);
 * what is committed of each (length, version, block sums) is one record in the metadata
 * store (ChunkRecords, lmdb), mirrored in memory. Every change of a chunk runs under its
 * chunk lock and ends with one atomic record commit; a reply goes out only after it.
 * - store: a new file, fsynced, renamed over the chunk, directory fsynced, record committed.
 * - append: the bytes go in place at the committed end, fdatasync, record committed; a
 *   crash before the commit leaves bytes past the committed length, cut at start-up.
 * - overwrite inside the chunk (commit_append below the end): redo record committed first,
 *   bytes in place, fdatasync, then record + redo removal in one commit; replayed at start-up.
 */
export class ChunkStore {
  private readonly lock = new KeyLock();
  private readonly listeners = new Set<(c: ChunkChange) => void>();
  private transactionsRef: Transactions | null = null;

  private constructor(
    readonly dir: string,
    readonly space: SpaceAccount,
    private readonly files: ChunkFiles,
    private readonly records: ChunkRecords,
    private readonly chunks: Map<string, ChunkRecord>,
    private readonly quarantine: Quarantine,
    readonly pool: BufferPool,
    private readonly log: Logger,
  ) {}

  static async open(dir: string, limitBytes: number, options: StoreOptions = {}): Promise<{ store: ChunkStore; report: StoreOpenReport }> {
    await mkdir(join(dir, META_DIR), { recursive: true });
    const pool = options.pool ?? new BufferPool(4 * READ_BYTES);
    const log = options.log ?? pino({ level: 'silent' });
    const dirHandle = await open(dir, 'r');
    const files = new ChunkFiles(dir, dirHandle, options.fsync ?? true);
    const records = ChunkRecords.open(join(dir, META_DIR));
    const recovered = await recoverChunks(files, records, pool, log);
    const scanned = await Transactions.scan(dir);
    const quarantine = await Quarantine.open(dir);
    await dirHandle.sync();
    const space = new SpaceAccount(limitBytes, recovered.usedBytes + scanned.report.preparedBytes);
    const store = new ChunkStore(dir, space, files, records, recovered.chunks, quarantine, pool, log);
    for (const { chunkId, reason } of recovered.damaged) await store.quarantineLocked(chunkId, 'start-up', reason);
    store.transactionsRef = await Transactions.recover(store, scanned, options.maxPrepared ?? 1000);
    const { chunks: _n, ...rest } = recovered.report;
    return {
      store,
      report: {
        ...rest,
        chunks: store.chunks.size,
        usedBytes: store.space.used,
        quarantined: recovered.damaged.length,
        corruptPending: quarantine.pending.length,
        ...scanned.report,
      },
    };
  }

  async close(): Promise<void> {
    await this.transactions.close();
    await this.records.close();
    await this.files.close();
  }

  get transactions(): Transactions {
    return this.transactionsRef!;
  }

  get chunkCount(): number {
    return this.chunks.size;
  }

  chunkIds(): string[] {
    return [...this.chunks.keys()];
  }

  sizeOf(chunkId: string): number | undefined {
    return this.chunks.get(chunkId)?.size;
  }

  /** The chunk's version (persistent, bumped by every committed mutation); 0 while there is no chunk. */
  versionOf(chunkId: string): number {
    return this.chunks.get(chunkId)?.version ?? 0;
  }

  /** The id of the last prepared append committed into the chunk (transaction recovery). */
  lastTxOf(chunkId: string): string | undefined {
    return this.chunks.get(chunkId)?.lastTx;
  }

  /** The block sums of the committed bytes, as recorded (diagnostics, tests). */
  sumsOf(chunkId: string): { size: number; crcs: Uint32Array } | undefined {
    const r = this.chunks.get(chunkId);
    return r && { size: r.size, crcs: r.crcs };
  }

  listChunks(): ChunkSummary[] {
    return [...this.chunks.keys()].map((id) => this.summaryOf(id)!);
  }

  summaryOf(chunkId: string): ChunkSummary | undefined {
    const r = this.chunks.get(chunkId);
    return r && { chunk_id: chunkId, length: r.size, version: r.version, digest: digestOf(r.size, r.crcs) };
  }

  onChange(listener: (c: ChunkChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(chunkId: string): void {
    const change: ChunkChange = this.summaryOf(chunkId) ?? { chunk_id: chunkId, deleted: true };
    for (const l of this.listeners) {
      try {
        l(change);
      } catch (err) {
        this.log.warn({ err }, 'chunk change listener failed');
      }
    }
  }

  corruptChunks(): string[] {
    return this.quarantine.pending;
  }

  async acknowledgeCorrupt(chunkIds: Iterable<string>): Promise<void> {
    try {
      await this.quarantine.acknowledge(chunkIds);
    } catch (err) {
      this.log.warn({ err }, 'cannot mark corrupt chunks as reported; they will be reported again after a restart');
    }
  }

  /** The on-disk identity of the chunk file as v1 named it; null when there is no chunk. */
  async identityOf(chunkId: string): Promise<ChunkIdentity | null> {
    try {
      const st = await stat(this.files.path(chunkId), { bigint: true });
      return { size: Number(st.size), ino: st.ino.toString(), mtime_ns: st.mtimeNs.toString() };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  withChunkLock<T>(chunkId: string, work: () => Promise<T>): Promise<T> {
    return this.lock.run(chunkId, work);
  }

  spillProvider(pool: BufferPool): SpillProvider {
    return {
      open: (size) => {
        // Nothing is reserved here: the staged file reserves as the bytes arrive.
        if (!this.space.fits(charge(size))) throw new InsufficientSpaceError(this.space.available);
        return new StagedFile(this.files.tempPath(), size, this.space, pool);
      },
    };
  }

  /** Stores `data` as chunk `chunkId`, replacing any previous version; durable on return. Returns the new version. */
  write(chunkId: string, data: Payload, version?: number): Promise<number> {
    if (!Buffer.isBuffer(data)) {
      if (!(data instanceof StagedFile)) return Promise.reject(new TypeError('staged data from another store'));
      return this.withChunkLock(chunkId, () => this.installStagedLocked(chunkId, data, version));
    }
    return this.withChunkLock(chunkId, async () => {
      // An overwrite is charged only for growth: the old file goes when the rename lands.
      const growth = chargeDelta(this.sizeOf(chunkId), data.length);
      if (!this.space.tryReserve(growth)) throw new InsufficientSpaceError(this.space.available);
      return this.writeWholeLocked(chunkId, data, Math.max(0, growth), version);
    });
  }

  private async writeWholeLocked(chunkId: string, data: Buffer, reserved: number, version: number | undefined, lastTx?: string): Promise<number> {
    const temp = this.files.tempPath();
    let written: WrittenFile;
    try {
      written = await this.files.writeNew(temp, data);
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      this.space.release(reserved);
      throw err;
    }
    crashPoint('store.data-synced');
    return this.installLocked(chunkId, temp, { size: data.length, ...written }, reserved, version, null, undefined, lastTx);
  }

  /**
   * Appends `data` at the chunk's committed end (creating the chunk if missing): the bytes
   * go into the chunk file in place, then one record commit publishes the new length, the
   * touched blocks' sums and the new version. Cost: the record plus the tail block, whatever
   * the chunk's size. A tail block that no longer matches its sums quarantines the chunk.
   */
  append(chunkId: string, data: Buffer, version?: number): Promise<{ offset: number; size: number; version: number }> {
    return this.withChunkLock(chunkId, async () => {
      const old = this.sizeOf(chunkId);
      const offset = old ?? 0;
      const growth = chargeDelta(old, offset + data.length);
      if (!this.space.tryReserve(growth)) throw new InsufficientSpaceError(this.space.available);
      const v = await this.appendReservedLocked(chunkId, data, growth, version);
      return { offset, size: offset + data.length, version: v };
    });
  }

  /** Caller holds the lock and `reserved` bytes, of which the growth becomes the chunk's. */
  private async appendReservedLocked(chunkId: string, data: Buffer, reserved: number, version: number | undefined, lastTx?: string): Promise<number> {
    const old = this.chunks.get(chunkId);
    if (!old) return this.writeWholeLocked(chunkId, data, reserved, version, lastTx);
    try {
      const boundary = await this.checkBoundaryLocked(chunkId, old, old.size, data.length);
      await this.files.writeAt(chunkId, old.size, data, 'append.written', 'append.synced');
      const after: ChunkRecord = { ...old, size: old.size + data.length, version: nextVersion(old, version), crcs: spliceSums(old.crcs, old.size, old.size, data, boundary), lastTx };
      await this.records.put(chunkId, after);
      crashPoint('append.committed');
      this.chunks.set(chunkId, after);
      this.space.release(reserved - chargeDelta(old.size, after.size));
    } catch (err) {
      this.space.release(reserved);
      throw err;
    }
    this.emit(chunkId);
    return this.versionOf(chunkId);
  }

  /**
   * Overwrite at `offset` below the committed end (the reference's prepare_append at an
   * offset), all or nothing: a redo record holding the bytes and the record-to-be is
   * committed first, then the bytes go in place, then the record and the redo removal
   * commit together. A crash in between is finished by start-up replaying the redo.
   */
  private async overwriteLocked(chunkId: string, old: ChunkRecord, offset: number, data: Buffer, reserved: number, version: number | undefined, lastTx?: string): Promise<number> {
    const size = Math.max(old.size, offset + data.length);
    try {
      const boundary = await this.checkBoundaryLocked(chunkId, old, offset, data.length);
      const after: ChunkRecord = { ...old, size, version: nextVersion(old, version), crcs: spliceSums(old.crcs, old.size, offset, data, boundary), lastTx };
      await this.records.logRedo({ chunkId, offset, data, after });
      crashPoint('redo.logged');
      await this.files.writeAt(chunkId, offset, data, 'redo.written', 'redo.written');
      await this.records.finishRedo(chunkId, after);
      crashPoint('redo.committed');
      this.chunks.set(chunkId, after);
      this.space.release(reserved - chargeDelta(old.size, size));
    } catch (err) {
      this.space.release(reserved);
      throw err;
    }
    this.emit(chunkId);
    return this.versionOf(chunkId);
  }

  /**
   * The old blocks a write changes only in part keep some old bytes, whose sums go into the
   * new record: they are read and checked first, or damage in them would be blessed.
   */
  private async checkBoundaryLocked(chunkId: string, old: ChunkRecord, offset: number, length: number): Promise<Map<number, Buffer>> {
    const checker = new BlockChecker(old.crcs);
    const boundary = new Map<number, Buffer>();
    for (const block of boundaryBlocks(old.size, offset, length)) {
      const start = block * BLOCK_BYTES;
      const want = Math.min(BLOCK_BYTES, old.size - start);
      const bytes = await this.files.read(chunkId, start, want);
      const mismatch: Mismatch | null = bytes.length === want ? checker.check(bytes, start) : { kind: 'size', expected: old.size, actual: start + bytes.length };
      if (mismatch) {
        await this.quarantineLocked(chunkId, 'append', describeMismatch(mismatch));
        throw new CorruptChunkError();
      }
      boundary.set(block, bytes);
    }
    return boundary;
  }

  /**
   * commit_append of a prepared record: applies `data` at `offset` if the chunk is still the
   * version the record was prepared on (else null: conflict). The transaction holds
   * `reserved` bytes for it. Returns the bytes the chunk had before, and its new version.
   */
  commitPreparedAppend(
    chunkId: string,
    tx: { offset: number; data: Buffer; baseVersion: number; reserved: number; transactionId: string },
  ): Promise<{ replacedBytes: number; version: number } | null> {
    return this.withChunkLock(chunkId, async () => {
      const old = this.chunks.get(chunkId);
      if (this.versionOf(chunkId) !== tx.baseVersion) return null;
      const replacedBytes = old?.size ?? 0;
      let version: number;
      if (!old || tx.offset === old.size) version = await this.appendReservedLocked(chunkId, tx.data, tx.reserved, undefined, tx.transactionId);
      else version = await this.overwriteLocked(chunkId, old, tx.offset, tx.data, tx.reserved, undefined, tx.transactionId);
      return { replacedBytes, version };
    });
  }

  private async installStagedLocked(chunkId: string, staged: StagedFile, version: number | undefined): Promise<number> {
    await staged.seal(this.files.fsync);
    const handle = await open(staged.path, 'r');
    let written: WrittenFile;
    try {
      const identity = identityOf(await handle.stat({ bigint: true }));
      written = { identity, crcs: await sumsOfFile(handle, staged.size, this.pool) };
    } finally {
      await handle.close();
    }
    crashPoint('store.data-synced');
    return this.installLocked(chunkId, staged.path, { size: staged.size, ...written }, staged.reserved, version, null, () => staged.adopted());
  }

  /**
   * Commits a prepared whole version (prepare_chunk, or a v1 prepared append) as the chunk.
   * Its sums file was made for its data (checked at start-up).
   */
  async installPreparedLocked(chunkId: string, src: NewVersion, size: number, reserved: number, syncSrcDir: () => Promise<void>, lastTx?: string): Promise<number> {
    const decoded = decodeSums(await readFile(src.sums));
    const st = await stat(src.data, { bigint: true });
    if (decoded.kind !== 'ok' || !sameIdentity(decoded.sums.identity, identityOf(st)) || decoded.sums.size !== size) throw new Error('prepared checksums do not match their data');
    const version = await this.installLocked(chunkId, src.data, { size, crcs: decoded.sums.crcs, identity: identityOf(st) }, reserved, undefined, syncSrcDir, undefined, lastTx);
    await unlink(src.sums).catch(() => undefined);
    return version;
  }

  /**
   * The way a chunk is replaced whole: `from` (complete, fsynced) is renamed over the chunk,
   * the directory fsynced, then the record committed. A crash between rename and commit
   * leaves the new file under a record naming the old inode: start-up computes its sums
   * and gives it the next version (the store was never acknowledged). `reserved` is what the
   * caller holds for the new version; afterwards the account holds the new size in place of
   * the old.
   */
  private async installLocked(
    chunkId: string,
    from: string,
    built: WrittenFile & { size: number },
    reserved: number,
    version: number | undefined,
    syncSrcDir: (() => Promise<void>) | null,
    adopted?: () => void,
    lastTx?: string,
  ): Promise<number> {
    try {
      await this.files.install(from, chunkId);
    } catch (err) {
      if (syncSrcDir === null && !adopted) {
        await unlink(from).catch(() => undefined);
        this.space.release(reserved);
      }
      throw err;
    }
    adopted?.();
    crashPoint('store.renamed');
    const old = this.chunks.get(chunkId);
    const after: ChunkRecord = { size: built.size, version: nextVersion(old, version), crcs: built.crcs, ino: built.identity.ino, btimeNs: built.identity.btimeNs, lastTx };
    // From here the file is the chunk, whatever happens to the commit.
    this.chunks.set(chunkId, after);
    this.space.release((old ? charge(old.size) : 0) + reserved - charge(built.size));
    await Promise.all([this.files.syncDir(), syncSrcDir?.()]);
    await this.records.put(chunkId, after);
    crashPoint('store.committed');
    if (this.quarantine.has(chunkId)) await this.acknowledgeCorrupt([chunkId]);
    this.emit(chunkId);
    return after.version;
  }

  /** Writes `data` as a new file `to.data` with its sums file `to.sums` (prepare_chunk); both fsynced. */
  async writeNewVersion(to: NewVersion, data: Buffer): Promise<void> {
    const { identity, crcs } = await this.files.writeNew(to.data, data);
    await writeSumsFile(to.sums, { size: data.length, crcs, identity });
  }

  /** Opens a chunk for reading with the sums of its committed bytes; nothing is read yet. */
  openForRead(chunkId: string): Promise<ChunkFile> {
    return this.withChunkLock(chunkId, async () => {
      const record = this.chunks.get(chunkId);
      if (!record) throw new ChunkNotFoundError();
      let handle: FileHandle;
      try {
        handle = await open(this.files.path(chunkId), 'r');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ChunkNotFoundError();
        throw err;
      }
      const identity = { ino: record.ino, btimeNs: record.btimeNs };
      return { chunkId, handle, size: record.size, sums: { size: record.size, crcs: record.crcs, identity }, version: record.version };
    });
  }

  /** Reads all of an opened chunk against its sums; a mismatch quarantines it (CorruptChunkError). */
  async verify(file: ChunkFile, foundBy: FoundBy, pace?: Pace): Promise<void> {
    // A file shorter than its committed length lost acknowledged bytes: corruption too.
    const onDisk = Number((await file.handle.stat()).size);
    const mismatch: Mismatch | null =
      onDisk < file.size ? { kind: 'size', expected: file.size, actual: onDisk } : await verifyFile(file.handle, file.size, file.sums, this.pool, pace);
    if (mismatch) {
      await this.condemn(file, foundBy, mismatch);
      throw new CorruptChunkError();
    }
  }

  /** Quarantines the version found damaged, unless it was replaced or changed meanwhile. */
  condemn(file: { chunkId: string; version: number }, foundBy: FoundBy, mismatch: Mismatch): Promise<void> {
    return this.withChunkLock(file.chunkId, async () => {
      if (this.versionOf(file.chunkId) !== file.version) {
        this.log.warn({ chunk_id: file.chunkId, found_by: foundBy, mismatch: describeMismatch(mismatch) }, 'corrupt version of a chunk was already replaced');
        return;
      }
      await this.quarantineLocked(file.chunkId, foundBy, describeMismatch(mismatch));
    });
  }

  /** Moves the chunk to `.quarantine/`, drops its record, frees its space. Never throws. */
  private async quarantineLocked(chunkId: string, foundBy: FoundBy, reason: string): Promise<void> {
    const size = this.sizeOf(chunkId);
    // The sums go with the chunk, for an operator to compare (v1 kept a data.crc file).
    const blockCrcs = [...(this.chunks.get(chunkId)?.crcs ?? [])];
    const entry = this.quarantine.newEntry(chunkId);
    let moveError: unknown = null;
    try {
      await this.quarantine.admit(entry, chunkId, this.files.path(chunkId), null, { found_by: foundBy, reason, size, block_crcs: blockCrcs, detected_at: new Date().toISOString() });
    } catch (err) {
      moveError = err;
    }
    const moved = (await this.identityOf(chunkId).catch(() => undefined)) === null;
    if (moved) {
      this.chunks.delete(chunkId);
      this.space.release(size === undefined ? 0 : charge(size));
      await this.records.remove(chunkId).catch((err: unknown) => this.log.warn({ err, chunk_id: chunkId }, 'cannot drop the record of a quarantined chunk; start-up drops it'));
      this.emit(chunkId);
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
      const existed = await this.files.remove(chunkId);
      const size = this.sizeOf(chunkId);
      this.space.release(size === undefined ? 0 : charge(size));
      const had = this.chunks.delete(chunkId);
      if (existed) await this.files.syncDir();
      crashPoint('delete.unlinked');
      // Left behind by a crash, the record names no file and start-up drops it.
      if (had) await this.records.remove(chunkId);
      if (had || existed) this.emit(chunkId);
      return existed;
    });
  }

  /** Start-up: a v1 prepared version's sums must name its data file; missing or foreign ones are computed. */
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
      const temp = `${v.sums}.tmp`;
      await unlink(temp).catch(() => undefined);
      await writeSumsFile(temp, sums);
      await rename(temp, v.sums);
      this.log.debug({ data: v.data, why: decoded?.kind ?? 'missing' }, 'checksums of a prepared transaction recomputed');
    } finally {
      await handle.close();
    }
  }

  async lastScrub(): Promise<number | null> {
    try {
      const v = (JSON.parse(await readFile(join(this.dir, META_DIR, SCRUB_MARK), 'utf8')) as { started_at?: unknown }).started_at;
      return typeof v === 'number' && Number.isFinite(v) ? v : null;
    } catch {
      return null;
    }
  }

  /** Not fsynced: a lost mark only moves one pass. */
  async recordScrub(startedAt: number): Promise<void> {
    const temp = join(this.dir, META_DIR, `.tmp-${randomBytes(8).toString('hex')}`);
    try {
      await writeFile(temp, JSON.stringify({ started_at: startedAt }) + '\n');
      await rename(temp, join(this.dir, META_DIR, SCRUB_MARK));
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      throw err;
    }
  }
}

/** Creates `path` holding `sums`, fsynced. */
export async function writeSumsFile(path: string, sums: ChunkSums): Promise<void> {
  const fh = await open(path, 'wx', 0o644);
  try {
    await fh.writeFile(encodeSums(sums));
    await fh.sync();
  } finally {
    await fh.close();
  }
}
