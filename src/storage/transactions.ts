import { crc32 } from 'node:zlib';
import type { Logger } from 'pino';
import { AlreadyCommittedError, BadOffsetError, ConflictError, CorruptChunkError, InsufficientSpaceError, NoPreparedDataError, TooManyPreparedError } from '../errors.js';
import type { BufferPool } from '../wire/buffer-pool.js';
import type { ChunkAppender } from './chunk-appender.js';
import type { ChunkTable } from './chunk-table.js';
import type { ChunkIdentity } from './chunk-types.js';
import { crashPoint } from './crash-points.js';
import { KeyLock } from './key-lock.js';
import { keyOf, PREPARED_DIR, type PreparedArea, type Sidecar, type TxKind } from './prepared-area.js';
import { writeNewVersion } from './prepared-sums.js';
import { Outcomes, STALE_VERSION, txCharge, type Outcome, type PreparedTx } from './prepared-tx.js';
import { recoverPrepared, scanPrepared, type ScannedArea } from './tx-recovery.js';
import type { VersionInstaller } from './version-installer.js';

/**
 * Prepared transactions of the two-phase protocol (prepare_* / commit_* / rollback_*).
 *
 * Each one is files in `<chunk_dir>/.prepared/` (a dot-name, so never a chunk id) and a
 * sidecar `<stem>.json` naming the transaction:
 * - prepare_chunk (format 1): `<stem>.data`, the whole new version, and `<stem>.crc`, its
 *   checksums; commit renames it over the chunk.
 * - prepare_append (format 2): `<stem>.data` holds only the record's bytes (their CRC32 in
 *   the sidecar, with the offset and the chunk version they apply to), never a copy of the
 *   chunk; commit appends them in place or, below the end, overwrites through a redo record
 *   (ChunkAppender). The chunk's record names the last transaction committed into it, so a
 *   sidecar left by a crash right after such a commit is known for the commit it was.
 * - v1's prepared appends (format 1, a whole copy) are still committed by rename. Data and checksums are written and
 * fsynced first, then the sidecar (temp, fsync, rename, directory fsync), and only then is
 * `prepared` replied; so a sidecar on disk always means complete data and checksums. The
 * stem is random: ids may hold dots and reach 128 characters each, so names built from them
 * could be ambiguous or too long.
 *
 * Invariants the start-up scan relies on:
 * - commit renames `.data` onto the chunk before it deletes the sidecar;
 * - rollback and expiry delete the sidecar (and fsync the folder) before the data.
 * Hence a sidecar whose data is gone was committed, and data without a sidecar was never
 * prepared (a crash mid-prepare) and is removed.
 */

export { PREPARED_DIR, txCharge, type PreparedTx, type TxKind };
export type { RecoveryReport } from './prepared-tx.js';

export type RollbackResult = { found: false } | { found: true; tx: PreparedTx };
export type CommitResult = { repeated: true } | { repeated: false; tx: PreparedTx; replacedBytes: number; version: number };

/** The parts of the store a transaction reads and changes chunks through. */
export interface TxChunks {
  readonly table: ChunkTable;
  readonly installer: VersionInstaller;
  readonly appender: ChunkAppender;
  readonly pool: BufferPool;
  readonly log: Logger;
}

/**
 * Prepared transactions and the outcomes of recent ones. Work on one transaction (kind,
 * chunk id, transaction id) is serialized by its own lock; anything touching the chunk takes
 * the chunk lock inside it (never the other way round, so the two cannot deadlock).
 */
export class Transactions {
  private readonly lock = new KeyLock();
  private readonly table: ChunkTable;
  private readonly installer: VersionInstaller;
  private readonly appender: ChunkAppender;

  private constructor(
    chunks: TxChunks,
    private readonly area: PreparedArea,
    private readonly maxPrepared: number,
    private readonly prepared: Map<string, PreparedTx>,
    private readonly outcomes: Outcomes,
  ) {
    ({ table: this.table, installer: this.installer, appender: this.appender } = chunks);
  }

  /** A new transaction (not a re-prepare of a pending one) must fit under max_prepared. */
  private checkCount(key: string): void {
    if (!this.prepared.has(key) && this.prepared.size >= this.maxPrepared) throw new TooManyPreparedError(this.maxPrepared);
  }

  /** Reloads what survived a restart (see recoverPrepared). */
  static async recover(chunks: TxChunks, scanned: ScannedArea, maxPrepared: number): Promise<Transactions> {
    const { prepared, outcomes } = await recoverPrepared(chunks.table, scanned, chunks.pool, chunks.log);
    return new Transactions(chunks, scanned.area, maxPrepared, prepared, outcomes);
  }

  static scan(chunkDir: string): Promise<ScannedArea> {
    return scanPrepared(chunkDir);
  }

  get count(): number {
    return this.prepared.size;
  }

  get(kind: TxKind, chunkId: string, transactionId: string): PreparedTx | undefined {
    return this.prepared.get(keyOf(kind, chunkId, transactionId));
  }

  /** prepare_chunk: `data` becomes the whole new chunk on commit. Durable on return. */
  prepareChunk(chunkId: string, transactionId: string, data: Buffer): Promise<PreparedTx> {
    return this.lock.run(keyOf('chunk', chunkId, transactionId), async () => {
      this.checkCount(keyOf('chunk', chunkId, transactionId));
      const space = this.table.space;
      if (!space.tryReserve(txCharge(1, data.length))) throw new InsufficientSpaceError(space.available);
      const stem = this.area.newStem();
      try {
        await this.area.ensure();
      } catch (err) {
        space.release(txCharge(1, data.length));
        throw err;
      }
      try {
        await writeNewVersion(this.table.files, this.area.versionPaths(stem), data);
      } catch (err) {
        await this.abandon(stem, txCharge(1, data.length));
        throw err;
      }
      crashPoint('prepare.data-synced');
      return this.record(
        { kind: 'chunk', chunkId, transactionId, size: data.length, createdAt: Date.now(), stem, baseVersion: STALE_VERSION, format: 1, offset: 0, crc: 0 },
        undefined,
      );
    });
  }

  /**
   * prepare_append: keeps only `data` (durably), with the offset and the chunk version it
   * applies to; reserves its bytes, which cover the chunk's growth at commit (the offset is
   * at most the size, and a commit applies only to the same version).
   */
  prepareAppend(chunkId: string, transactionId: string, data: Buffer, offset: number): Promise<PreparedTx> {
    return this.lock.run(keyOf('append', chunkId, transactionId), async () => {
      this.checkCount(keyOf('append', chunkId, transactionId));
      const baseVersion = await this.table.withChunkLock(chunkId, async () => {
        const current = this.table.sizeOf(chunkId) ?? 0;
        if (offset > current) throw new BadOffsetError(current);
        return this.table.versionOf(chunkId);
      });
      const space = this.table.space;
      if (!space.tryReserve(txCharge(2, data.length))) throw new InsufficientSpaceError(space.available);
      const stem = this.area.newStem();
      try {
        await this.area.ensure();
        await this.area.writeRecord(stem, data, true);
      } catch (err) {
        await this.abandon(stem, txCharge(2, data.length));
        throw err;
      }
      crashPoint('prepare.data-synced');
      const tx: PreparedTx = { kind: 'append', chunkId, transactionId, size: data.length, createdAt: Date.now(), stem, baseVersion, format: 2, offset, crc: crc32(data) };
      return this.record(tx, undefined);
    });
  }

  /** Writes the sidecar and replaces any earlier prepare of the same transaction. Runs under the transaction lock. */
  private async record(tx: PreparedTx, base: ChunkIdentity | null | undefined): Promise<PreparedTx> {
    const sidecar: Sidecar = {
      format: tx.format,
      kind: tx.kind,
      chunk_id: tx.chunkId,
      transaction_id: tx.transactionId,
      size: tx.size,
      created_at: tx.createdAt,
      ...(tx.format === 2 ? { offset: tx.offset, base_version: tx.baseVersion, crc: tx.crc } : tx.kind === 'append' ? { base: base ?? null } : {}),
    };
    try {
      await this.area.writeSidecar(tx.stem, sidecar);
    } catch (err) {
      await this.abandon(tx.stem, txCharge(tx.format, tx.size));
      throw err;
    }
    const key = keyOf(tx.kind, tx.chunkId, tx.transactionId);
    const earlier = this.prepared.get(key);
    this.prepared.set(key, tx);
    this.outcomes.delete(key);
    if (earlier) {
      // The new prepare stands even if the old files resist; a restart removes leftovers.
      await this.area.discard(earlier.stem).catch(() => undefined);
      this.table.space.release(txCharge(earlier.format, earlier.size));
    }
    return tx;
  }

  /** Undoes a prepare that failed before it was recorded. */
  private async abandon(stem: string, reservedBytes: number): Promise<void> {
    await this.area.discard(stem).catch(() => undefined);
    this.table.space.release(reservedBytes);
  }

  /** Deletes a prepared transaction's files and frees its space. Runs under the transaction lock. */
  private async drop(tx: PreparedTx): Promise<void> {
    await this.area.discard(tx.stem);
    this.table.space.release(txCharge(tx.format, tx.size));
  }

  /**
   * commit_chunk / commit_append. A repeat of a finished commit answers `repeated`.
   * Appends whose base changed meanwhile fail with `conflict`, leave the chunk as it is,
   * and are rolled back: they can never apply any more. Whole-chunk commits are
   * last-writer-wins, as in the reference.
   */
  commit(kind: TxKind, chunkId: string, transactionId: string): Promise<CommitResult> {
    const key = keyOf(kind, chunkId, transactionId);
    return this.lock.run(key, async () => {
      const tx = this.prepared.get(key);
      if (!tx) {
        if (this.outcomes.get(key) === 'committed') return { repeated: true };
        throw new NoPreparedDataError();
      }
      if (tx.format === 2) return this.commitRecord(key, tx);
      let done: { replacedBytes: number; version: number } | null;
      try {
        done = await this.table.withChunkLock(chunkId, async () => {
          if (kind === 'append' && this.table.versionOf(chunkId) !== tx.baseVersion) return null;
          const replacedBytes = this.table.sizeOf(chunkId) ?? 0;
          const version = await this.installer.installPreparedLocked(chunkId, this.area.versionPaths(tx.stem), tx.size, txCharge(tx.format, tx.size), () => this.area.sync());
          crashPoint('commit.installed');
          return { replacedBytes, version };
        });
      } catch (err) {
        // The rename landed and only a directory fsync failed: the data is the chunk now.
        if (!(await this.area.hasData(tx.stem))) {
          this.forget(key, 'committed');
          await this.area.forgetCommitted(tx.stem).catch(() => undefined);
        }
        throw err;
      }
      if (done === null) return this.conflicted(key, tx);
      this.forget(key, 'committed');
      // A sidecar left behind by a failure here is read as this commit at start-up.
      await this.area.forgetCommitted(tx.stem).catch(() => undefined);
      return { repeated: false, tx, ...done };
    });
  }

  private forget(key: string, outcome: Outcome): void {
    this.prepared.delete(key);
    this.outcomes.set(key, outcome);
  }

  private async conflicted(key: string, tx: PreparedTx): Promise<never> {
    await this.drop(tx);
    this.forget(key, 'rolled_back');
    throw new ConflictError();
  }

  /** commit_append of a format-2 record: applied by the store, then its files go. Runs under the transaction lock. */
  private async commitRecord(key: string, tx: PreparedTx): Promise<CommitResult> {
    const data = await this.area.readRecord(tx.stem);
    if (data.length !== tx.size || crc32(data) !== tx.crc) throw new CorruptChunkError();
    const space = this.table.space;
    // The store frees what it does not keep of the reservation, or all of it on a failure;
    // a failed commit leaves the transaction holding its bytes again.
    const done = await this.appender
      .commitPreparedAppend(tx.chunkId, { offset: tx.offset, data, baseVersion: tx.baseVersion, reserved: txCharge(tx.format, tx.size), transactionId: tx.transactionId })
      .catch(async (err: unknown) => {
        space.restore(txCharge(tx.format, tx.size));
        // The chunk was quarantined: the record can never apply; it is rolled back.
        if (err instanceof CorruptChunkError) await this.drop(tx).then(() => this.forget(key, 'rolled_back'));
        throw err;
      });
    if (done === null) return this.conflicted(key, tx);
    this.forget(key, 'committed');
    // A crash before this is read as the commit at start-up (the chunk names the transaction).
    await this.area.discard(tx.stem).catch(() => undefined);
    return { repeated: false, tx, ...done };
  }

  /** rollback_chunk / rollback_append: ok when nothing was prepared, an error after a commit. */
  rollback(kind: TxKind, chunkId: string, transactionId: string): Promise<RollbackResult> {
    const key = keyOf(kind, chunkId, transactionId);
    return this.lock.run(key, async () => {
      const tx = this.prepared.get(key);
      if (!tx) {
        if (this.outcomes.get(key) === 'committed') throw new AlreadyCommittedError();
        return { found: false };
      }
      await this.drop(tx);
      this.forget(key, 'rolled_back');
      return { found: true, tx };
    });
  }

  /** Rolls back every transaction prepared at or before `cutoffMs`; returns those it ended. */
  async expire(cutoffMs: number): Promise<PreparedTx[]> {
    const expired: PreparedTx[] = [];
    for (const [key, candidate] of this.prepared) {
      if (candidate.createdAt > cutoffMs) continue;
      await this.lock.run(key, async () => {
        const tx = this.prepared.get(key);
        // A commit, rollback or re-prepare may have got there first.
        if (!tx || tx.createdAt > cutoffMs) return;
        await this.drop(tx);
        this.forget(key, 'rolled_back');
        expired.push(tx);
      });
    }
    return expired;
  }

  close(): Promise<void> {
    return this.area.close();
  }
}
