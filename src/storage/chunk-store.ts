import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { BufferPool } from '../wire/buffer-pool.js';
import type { Payload, SpillProvider } from '../wire/payload.js';
import { READ_BYTES, type Mismatch, type Pace } from './checksums.js';
import { ChunkAppender } from './chunk-appender.js';
import { ChunkFiles } from './chunk-files.js';
import { ChunkReader } from './chunk-reader.js';
import { ChunkRecords } from './chunk-records.js';
import { META_DIR, recoverChunks, type RecoveredChunks } from './chunk-recovery.js';
import { ChunkTable } from './chunk-table.js';
import type { ChunkChange, ChunkSummary } from '../wire/chunk-report.js';
import type { ChunkFile, ChunkIdentity, FoundBy, NewVersion } from './chunk-types.js';
import { CorruptChunks } from './corrupt-chunks.js';
import { repairPreparedSums, writeNewVersion } from './prepared-sums.js';
import type { RecoveryReport } from './prepared-tx.js';
import { Quarantine } from './quarantine.js';
import { lastScrub, recordScrub } from './scrub-mark.js';
import { SpaceAccount } from './space.js';
import { Transactions } from './transactions.js';
import { VersionInstaller } from './version-installer.js';
import { Checkpointer } from './wal/checkpointer.js';
import { readLogs, replayLog } from './wal/wal-replay.js';
import { WriteAheadLog } from './wal/write-ahead-log.js';

export { META_DIR };
export { digestOf, type ChunkFile, type ChunkIdentity, type FoundBy, type NewVersion } from './chunk-types.js';
export { writeSumsFile } from './prepared-sums.js';

export interface StoreOpenReport extends RecoveryReport, Omit<RecoveredChunks['report'], 'chunks'> {
  chunks: number;
  /** Appends replayed from the write-ahead log (acknowledged, not yet checkpointed), and torn bytes cut off its end. */
  logReplayed: number;
  logTornBytes: number;
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
  /** Bytes of one write-ahead log file (`[chunk_server] wal_max_kb`); 0 turns the log off. Default DEFAULT_WAL_BYTES. */
  readonly walBytes?: number;
}

/**
 * Two files of 128 KiB at most: with lmdb they stay inside the disk margin the space limit
 * leaves (DISK_MARGIN_BYTES), and a checkpoint every ~30 appends of 4 KiB costs a few
 * flushes, shared by those 30.
 */
export const DEFAULT_WAL_BYTES = 128 * 1024;

/**
 * The storage facade handlers get as `ctx.store`. Chunk data are plain files (ChunkFiles);
 * what is committed of each (length, version, block sums) is one record in the metadata
 * store (ChunkRecords, lmdb), mirrored in memory (ChunkTable). Every change of a chunk runs
 * under its chunk lock and ends with one atomic record commit; a reply goes out only after
 * it. Whole versions are installed by VersionInstaller, in-place changes made by
 * ChunkAppender, reads checked by ChunkReader, damage put away by CorruptChunks.
 */
export class ChunkStore {
  private transactionsRef: Transactions | null = null;
  private readonly installer: VersionInstaller;
  private readonly appender: ChunkAppender;
  private readonly reader: ChunkReader;

  private constructor(
    readonly dir: string,
    private readonly table: ChunkTable,
    private readonly corrupt: CorruptChunks,
    readonly pool: BufferPool,
    private readonly log: Logger,
    private readonly checkpointer: Checkpointer | null,
    private readonly wal: WriteAheadLog | null,
  ) {
    this.installer = new VersionInstaller(table, corrupt, pool);
    this.appender = new ChunkAppender(table, this.installer, corrupt, wal);
    this.reader = new ChunkReader(table, corrupt, pool);
  }

  static async open(dir: string, limitBytes: number, options: StoreOptions = {}): Promise<{ store: ChunkStore; report: StoreOpenReport }> {
    await mkdir(join(dir, META_DIR), { recursive: true });
    const pool = options.pool ?? new BufferPool(4 * READ_BYTES);
    const log = options.log ?? pino({ level: 'silent' });
    const dirHandle = await open(dir, 'r');
    const fsync = options.fsync ?? true;
    const files = new ChunkFiles(dir, dirHandle, fsync);
    const metaDir = join(dir, META_DIR);
    const records = ChunkRecords.open(metaDir);
    // The log first: what it holds was acknowledged, and the checks below compare files with records.
    const logged = await readLogs(metaDir);
    const logReplayed = await replayLog(files, records, logged.entries);
    const recovered = await recoverChunks(files, records, pool, log);
    const scanned = await Transactions.scan(dir);
    const quarantine = await Quarantine.open(dir);
    await dirHandle.sync();
    const space = new SpaceAccount(limitBytes, recovered.usedBytes + scanned.report.preparedBytes);
    const table = new ChunkTable(files, records, recovered.chunks, space, log);
    const corrupt = new CorruptChunks(table, quarantine, log);
    const walBytes = options.walBytes ?? DEFAULT_WAL_BYTES;
    let checkpointer: Checkpointer | null = null;
    const wal = walBytes > 0 ? await WriteAheadLog.create(metaDir, logged.nextGeneration, walBytes, fsync, () => checkpointer?.request()) : null;
    if (wal) checkpointer = new Checkpointer(table, wal, fsync, log);
    const store = new ChunkStore(dir, table, corrupt, pool, log, checkpointer, wal);
    for (const { chunkId, reason } of recovered.damaged) await corrupt.quarantineLocked(chunkId, 'start-up', reason);
    store.transactionsRef = await Transactions.recover(
      { table, installer: store.installer, appender: store.appender, pool, log },
      scanned,
      options.maxPrepared ?? 1000,
    );
    const { chunks: _n, ...rest } = recovered.report;
    return {
      store,
      report: {
        ...rest,
        chunks: table.chunks.size,
        logReplayed,
        logTornBytes: logged.tornBytes,
        usedBytes: space.used,
        quarantined: recovered.damaged.length,
        corruptPending: quarantine.pending.length,
        ...scanned.report,
      },
    };
  }

  async close(): Promise<void> {
    await this.transactions.close();
    await this.checkpointer?.close();
    await this.wal?.close();
    await this.table.records.close();
    await this.table.files.close();
  }

  get transactions(): Transactions {
    return this.transactionsRef!;
  }

  get space(): SpaceAccount {
    return this.table.space;
  }

  get chunkCount(): number {
    return this.table.chunks.size;
  }

  chunkIds(): string[] {
    return [...this.table.chunks.keys()];
  }

  sizeOf(chunkId: string): number | undefined {
    return this.table.sizeOf(chunkId);
  }

  /** The chunk's version (persistent, bumped by every committed mutation); 0 while there is no chunk. */
  versionOf(chunkId: string): number {
    return this.table.versionOf(chunkId);
  }

  /** The id of the last prepared append committed into the chunk (transaction recovery). */
  lastTxOf(chunkId: string): string | undefined {
    return this.table.lastTxOf(chunkId);
  }

  /** The block sums of the committed bytes, as recorded (diagnostics, tests). */
  sumsOf(chunkId: string): { size: number; crcs: Uint32Array } | undefined {
    return this.table.sumsOf(chunkId);
  }

  listChunks(): ChunkSummary[] {
    return this.table.listChunks();
  }

  summaryOf(chunkId: string): ChunkSummary | undefined {
    return this.table.summaryOf(chunkId);
  }

  onChange(listener: (c: ChunkChange) => void): () => void {
    return this.table.onChange(listener);
  }

  corruptChunks(): string[] {
    return this.corrupt.pending;
  }

  acknowledgeCorrupt(chunkIds: Iterable<string>): Promise<void> {
    return this.corrupt.acknowledge(chunkIds);
  }

  identityOf(chunkId: string): Promise<ChunkIdentity | null> {
    return this.table.identityOf(chunkId);
  }

  withChunkLock<T>(chunkId: string, work: () => Promise<T>): Promise<T> {
    return this.table.withChunkLock(chunkId, work);
  }

  spillProvider(pool: BufferPool): SpillProvider {
    return this.installer.spillProvider(pool);
  }

  write(chunkId: string, data: Payload, version?: number): Promise<number> {
    return this.installer.write(chunkId, data, version);
  }

  append(chunkId: string, data: Buffer, version?: number): Promise<{ offset: number; size: number; version: number }> {
    return this.appender.append(chunkId, data, version);
  }

  commitPreparedAppend(
    chunkId: string,
    tx: { offset: number; data: Buffer; baseVersion: number; reserved: number; transactionId: string },
  ): Promise<{ replacedBytes: number; version: number } | null> {
    return this.appender.commitPreparedAppend(chunkId, tx);
  }

  installPreparedLocked(chunkId: string, src: NewVersion, size: number, reserved: number, syncSrcDir: () => Promise<void>, lastTx?: string): Promise<number> {
    return this.installer.installPreparedLocked(chunkId, src, size, reserved, syncSrcDir, lastTx);
  }

  writeNewVersion(to: NewVersion, data: Buffer): Promise<void> {
    return writeNewVersion(this.table.files, to, data);
  }

  repairPreparedSums(v: NewVersion): Promise<void> {
    return repairPreparedSums(v, this.pool, this.log);
  }

  openForRead(chunkId: string): Promise<ChunkFile> {
    return this.reader.openForRead(chunkId);
  }

  verify(file: ChunkFile, foundBy: FoundBy, pace?: Pace): Promise<void> {
    return this.reader.verify(file, foundBy, pace);
  }

  condemn(file: { chunkId: string; version: number }, foundBy: FoundBy, mismatch: Mismatch): Promise<void> {
    return this.corrupt.condemn(file, foundBy, mismatch);
  }

  delete(chunkId: string): Promise<boolean> {
    return this.table.delete(chunkId);
  }

  lastScrub(): Promise<number | null> {
    return lastScrub(join(this.dir, META_DIR));
  }

  recordScrub(startedAt: number): Promise<void> {
    return recordScrub(join(this.dir, META_DIR), startedAt);
  }
}
