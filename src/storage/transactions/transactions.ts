import { crc32 } from 'node:zlib';
import type { Logger } from 'pino';
import { AlreadyCommittedError, BadOffsetError, ConflictError, CorruptChunkError, InsufficientSpaceError, NoPreparedDataError, TooManyPreparedError } from '../../errors.js';
import type { BufferPool } from '../../wire/buffer-pool.js';
import type { ChunkAppender } from '../writes/appender.js';
import type { ChunkTable } from '../chunks/table.js';
import type { ChunkIdentity } from '../chunks/types.js';
import { crashPoint } from '../io/crash-points.js';
import { KeyLock } from '../io/key-lock.js';
import { keyOf, type PreparedArea, type Sidecar, type TxKind } from './prepared-area.js';
import type { Reservation } from '../space/space-account.js';
import { writeNewVersion } from './prepared-sums.js';
import { txCharge } from '../space/charges.js';
import { Outcomes, STALE_VERSION, type Outcome, type PreparedTx } from './prepared-tx.js';
import { recoverPrepared, type ScannedArea } from './recovery.js';
import type { VersionInstaller } from '../writes/version-installer.js';

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
 * Prepared transactions of the two-phase protocol (prepare_* / commit_* / rollback_*; their
 * files and the invariants start-up relies on are described in prepared-area.ts) and the
 * outcomes of recent ones. Work on one transaction (kind,
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
      const reservation = this.table.space.reserve(txCharge(1, data.length));
      const stem = this.area.newStem();
      try {
        await this.area.ensure();
      } catch (err) {
        reservation.release();
        throw err;
      }
      try {
        await writeNewVersion(this.table.files, this.area.versionPaths(stem), data);
      } catch (err) {
        await this.abandon(stem, reservation);
        throw err;
      }
      crashPoint('prepare.data-synced');
      return this.record(
        { kind: 'chunk', chunkId, transactionId, size: data.length, reservation, createdAt: Date.now(), stem, baseVersion: STALE_VERSION, format: 1, offset: 0, crc: 0 },
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
        // Never below the end: that would overwrite another producer's acknowledged record
        // (the reference overwrites; PROTOCOL.md, prepare_append).
        if (offset < current) throw new ConflictError(current);
        return this.table.versionOf(chunkId);
      });
      const reservation = this.table.space.reserve(txCharge(2, data.length));
      const stem = this.area.newStem();
      try {
        await this.area.ensure();
        await this.area.writeRecord(stem, data, true);
      } catch (err) {
        await this.abandon(stem, reservation);
        throw err;
      }
      crashPoint('prepare.data-synced');
      const tx: PreparedTx = { kind: 'append', chunkId, transactionId, size: data.length, reservation, createdAt: Date.now(), stem, baseVersion, format: 2, offset, crc: crc32(data) };
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
      await this.abandon(tx.stem, tx.reservation);
      throw err;
    }
    const key = keyOf(tx.kind, tx.chunkId, tx.transactionId);
    const earlier = this.prepared.get(key);
    this.prepared.set(key, tx);
    this.outcomes.delete(key);
    if (earlier) {
      // The new prepare stands even if the old files resist; a restart removes leftovers.
      await this.area.discard(earlier.stem).catch(() => undefined);
      earlier.reservation.release();
    }
    return tx;
  }

  /** Undoes a prepare that failed before it was recorded. */
  private async abandon(stem: string, reservation: Reservation): Promise<void> {
    await this.area.discard(stem).catch(() => undefined);
    reservation.release();
  }

  /** Deletes a prepared transaction's files and frees its space. Runs under the transaction lock. */
  private async drop(tx: PreparedTx): Promise<void> {
    await this.area.discard(tx.stem);
    tx.reservation.release();
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
          const version = await this.installer.installPreparedLocked(chunkId, this.area.versionPaths(tx.stem), tx.size, tx.reservation, () => this.area.sync());
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
    throw new ConflictError(this.table.sizeOf(tx.chunkId) ?? 0);
  }

  /** commit_append of a format-2 record: applied by the store, then its files go. Runs under the transaction lock. */
  private async commitRecord(key: string, tx: PreparedTx): Promise<CommitResult> {
    const data = await this.area.readRecord(tx.stem);
    if (data.length !== tx.size || crc32(data) !== tx.crc) throw new CorruptChunkError();
    // A failed commit leaves the transaction holding its reservation.
    const done = await this.appender
      .commitPreparedAppend(tx.chunkId, { offset: tx.offset, data, baseVersion: tx.baseVersion, reservation: tx.reservation, transactionId: tx.transactionId })
      .catch(async (err: unknown) => {
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
