import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { BufferPool } from '../wire/buffer-pool.js';
import type { Payload, SpillProvider } from '../wire/payload.js';
import { READ_BYTES } from './checksums/block-sums.js';
import { ChunkFiles } from './chunks/files.js';
import { ChunkRecords, META_DIR } from './chunks/records.js';
import { ChunkTable } from './chunks/table.js';
import type { ChunkChange, ChunkSummary } from './chunks/types.js';
import { CorruptChunks } from './integrity/corrupt-chunks.js';
import { Quarantine } from './integrity/quarantine.js';
import { lastScrub, recordScrub } from './integrity/scrub-mark.js';
import type { ScrubTarget } from './integrity/scrubber.js';
import { openVerified, type VerifiedChunk } from './integrity/verified-chunk.js';
import { SpaceAccount } from './space/space-account.js';
import { recoverChunks, type RecoveredChunks } from './startup/chunk-recovery.js';
import type { RecoveryReport } from './transactions/prepared-tx.js';
import { scanPrepared } from './transactions/recovery.js';
import { Transactions } from './transactions/transactions.js';
import { Checkpointer } from './wal/checkpointer.js';
import { readLogs } from './wal/reader.js';
import { replayLog } from './wal/replay.js';
import { WriteAheadLog, type LogRoom } from './wal/writer.js';
import { ChunkAppender } from './writes/appender.js';
import { STORE_LOG_BYTES } from './space/charges.js';
import { LoggedStores } from './writes/logged-store.js';
import { VersionInstaller } from './writes/version-installer.js';

export interface StoreOpenReport extends RecoveryReport, Omit<RecoveredChunks['report'], 'chunks'> {
  chunks: number;
  /** Appends replayed from the write-ahead log (acknowledged, not yet checkpointed), and torn bytes cut off its end. */
  logReplayed: number;
  logTornBytes: number;
  usedBytes: number;
  quarantined: number;
  corruptPending: number;
}

/** The default bound on a stored value's wait for room, in ms (staged or whole). */
export const DEFAULT_SPACE_WAIT_MS = 60_000;

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
  /** How long a store whose value arrived whole waits in line for room, in ms. Default DEFAULT_SPACE_WAIT_MS. */
  readonly spaceWaitMs?: number;
  /** Stores up to this many bytes go through the write-ahead log (`[chunk_server] wal_store_max_kb`); 0: none. Default DEFAULT_WAL_STORE_BYTES. */
  readonly walStoreBytes?: number;
}

/** Measured (docs/performance.md, "Small stores through the log"). */
export const DEFAULT_WAL_STORE_BYTES = 64 * 1024;

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
 * under its chunk lock and ends in ChunkTable.commit; a reply goes out only after it.
 * Whole versions are installed by VersionInstaller, in-place changes made by ChunkAppender,
 * reads checked by VerifiedChunk, damage put away by CorruptChunks.
 */
export class ChunkStore implements ScrubTarget {
  private constructor(
    readonly dir: string,
    private readonly table: ChunkTable,
    private readonly corrupt: CorruptChunks,
    private readonly pool: BufferPool,
    private readonly installer: VersionInstaller,
    private readonly appender: ChunkAppender,
    readonly transactions: Transactions,
    private readonly checkpointer: Checkpointer | null,
    private readonly wal: WriteAheadLog | null,
    private readonly logged: LoggedStores | null,
  ) {}

  static async open(dir: string, limitBytes: number, options: StoreOptions = {}): Promise<{ store: ChunkStore; report: StoreOpenReport }> {
    await mkdir(join(dir, META_DIR), { recursive: true });
    const pool = options.pool ?? new BufferPool(4 * READ_BYTES);
    const log = options.log ?? pino({ level: 'silent' });
    const dirHandle = await open(dir, 'r');
    const fsync = options.fsync ?? true;
    const files = new ChunkFiles(dir, dirHandle, fsync);
    const metaDir = join(dir, META_DIR);
    const records = ChunkRecords.open(metaDir);
    // Replay and the checks below reach a chunk's data through the file its record names.
    for (const [id, r] of records.all()) files.nameData(id, r.file);
    // The log first: what it holds was acknowledged, and the checks below compare files with records.
    const logged = await readLogs(metaDir);
    const logReplayed = await replayLog(files, records, logged.entries);
    const recovered = await recoverChunks(files, records, pool, log);
    const scanned = await scanPrepared(dir);
    const quarantine = await Quarantine.open(dir);
    await dirHandle.sync();
    const space = new SpaceAccount(limitBytes, recovered.usedBytes + scanned.report.preparedBytes);
    const table = new ChunkTable(files, records, recovered.chunks, space, log);
    const corrupt = new CorruptChunks(table, quarantine, log);
    const walBytes = options.walBytes ?? DEFAULT_WAL_BYTES;
    let checkpointer: Checkpointer | null = null;
    const storeBytes = walBytes > 0 ? (options.walStoreBytes ?? DEFAULT_WAL_STORE_BYTES) : 0;
    const storeCap = storeBytes > 0 ? STORE_LOG_BYTES : 0;
    const wal = walBytes > 0 ? await WriteAheadLog.create(metaDir, logged.nextGeneration, walBytes, fsync, () => checkpointer?.request(), storeCap) : null;
    if (wal) checkpointer = new Checkpointer(table, wal, fsync, log);
    const stores = wal && storeBytes > 0 ? new LoggedStores(table, corrupt, wal, storeBytes) : null;
    const installer = new VersionInstaller(table, corrupt, pool, options.spaceWaitMs ?? DEFAULT_SPACE_WAIT_MS, stores);
    const appender = new ChunkAppender(table, installer, corrupt, wal);
    for (const { chunkId, reason } of recovered.damaged) await corrupt.quarantineLocked(chunkId, 'start-up', reason);
    const transactions = await Transactions.recover({ table, installer, appender, pool, log }, scanned, options.maxPrepared ?? 1000);
    const store = new ChunkStore(dir, table, corrupt, pool, installer, appender, transactions, checkpointer, wal, stores);
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

  /**
   * Where large bin values of incoming frames go. A staged value short of room waits in line
   * for it at most `spaceWaitMs` (default one minute, half the default frame_timeout_s).
   */
  spillProvider(pool: BufferPool, spaceWaitMs = DEFAULT_SPACE_WAIT_MS): SpillProvider {
    return this.installer.spillProvider(pool, spaceWaitMs);
  }

  write(chunkId: string, data: Payload, version?: number): Promise<number> {
    return this.withStoreRoom(chunkId, data, (room) => this.table.withChunkLock(chunkId, () => this.installer.writeLocked(chunkId, data, version, room)));
  }

  /** A small store's room in the log, taken before the chunk lock (LoggedStores.withRoom). */
  private withStoreRoom<T>(chunkId: string, data: Payload, work: (room: LogRoom | null) => Promise<T>): Promise<T> {
    return this.logged ? this.logged.withRoom(chunkId, data, work) : work(null);
  }

  /**
   * A primary's store: under the chunk's lock the version is picked (`version`, else the one
   * after the committed one) and the local write made; `copies(version)` (the replicas'
   * stores) starts once the version is picked and runs beside the write, outside the lock.
   * A change holding the lock when the primary decided is thus never given the same version.
   */
  async writeAsPrimary<T>(
    chunkId: string,
    data: Payload,
    version: number | undefined,
    copies: (version: number) => Promise<T>,
  ): Promise<{ local: PromiseSettledResult<number>; copies: PromiseSettledResult<T> }> {
    // Assigned before the lock's promise settles: the lock always runs its work.
    let copied!: Promise<PromiseSettledResult<T>>;
    const [local] = await Promise.allSettled([
      this.withStoreRoom(chunkId, data, (room) =>
        this.table.withChunkLock(chunkId, () => {
          const v = version ?? this.table.versionOf(chunkId) + 1;
          copied = copies(v).then((value) => ({ status: 'fulfilled', value }), (reason: unknown) => ({ status: 'rejected', reason }));
          return this.installer.writeLocked(chunkId, data, v, room);
        }),
      ),
    ]);
    return { local: local!, copies: await copied };
  }

  /** `at`: the offset the append must start at (a replica following its primary), else bad_offset. */
  append(chunkId: string, data: Buffer, version?: number, at?: number): Promise<{ offset: number; size: number; version: number }> {
    return this.appender.append(chunkId, data, version, at);
  }

  /** The committed version of a chunk, opened for checked reads (retrieve, copies, scrub). */
  /** record_append as primary: at the committed end, or padding to `capacity` when the record does not fit (writes/appender.ts). */
  appendRecord(chunkId: string, record: Buffer, capacity: number, partial = false): Promise<{ offset: number; size: number; version: number; data: Buffer; padded: boolean }> {
    return this.appender.appendRecord(chunkId, record, capacity, partial);
  }

  openVerified(chunkId: string): Promise<VerifiedChunk> {
    return openVerified({ table: this.table, corrupt: this.corrupt, pool: this.pool }, chunkId);
  }

  delete(chunkId: string): Promise<boolean> {
    return this.table.delete(chunkId, this.afterDelete);
  }

  /** A chunk deleted while a store of it is in the write-ahead log only (LoggedStores.deletedLocked). */
  private readonly afterDelete = async (chunkId: string): Promise<void> => {
    await this.logged?.deletedLocked(chunkId);
  };

  /** Deletes the chunk unless `keep`, asked under the chunk's lock, spares it (null: kept). */
  deleteUnless(chunkId: string, keep: (now: ChunkSummary) => boolean): Promise<boolean | null> {
    return this.table.deleteUnless(chunkId, keep, this.afterDelete);
  }

  lastScrub(): Promise<number | null> {
    return lastScrub(join(this.dir, META_DIR));
  }

  recordScrub(startedAt: number): Promise<void> {
    return recordScrub(join(this.dir, META_DIR), startedAt);
  }
}
