import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { alreadyCommitted, BadOffsetError, conflict, CorruptChunkError, InsufficientSpaceError, noPreparedData, tooManyPrepared } from '../errors.js';
import type { ChunkIdentity, ChunkStore } from './chunk-store.js';
import { crashPoint } from './crash-points.js';
import { KeyLock } from './key-lock.js';
import { keyOf, PREPARED_DIR, PreparedArea, type ScannedTx, type Sidecar, type TxKind } from './prepared-area.js';
import { txCharge } from './space.js';

export { txCharge };

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
 *   (ChunkStore). The chunk's record names the last transaction committed into it, so a
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

export { PREPARED_DIR, type TxKind };

export interface PreparedTx {
  readonly kind: TxKind;
  readonly chunkId: string;
  readonly transactionId: string;
  /** Bytes of the prepared file, i.e. of the whole new version; reserved in the space account until it ends. */
  readonly size: number;
  /** Milliseconds since the epoch; expiry counts from here, across restarts. */
  readonly createdAt: number;
  readonly stem: string;
  /** Appends: the ChunkStore version the new bytes were built on (see ChunkStore.versionOf). */
  readonly baseVersion: number;
  /** 2: a prepared append holding only its record; 1: a whole new version. */
  readonly format: 1 | 2;
  /** Format 2: where the record goes, and the CRC32 of its bytes. */
  readonly offset: number;
  readonly crc: number;
}

/** Outcome of a transaction that has ended, as later repeats of commit and rollback see it. */
type Outcome = 'committed' | 'rolled_back';

export type RollbackResult = { found: false } | { found: true; tx: PreparedTx };
export type CommitResult = { repeated: true } | { repeated: false; tx: PreparedTx; replacedBytes: number; version: number };

// Never equal to any version a chunk can have: marks an append whose base is gone.
const STALE_VERSION = -1;
// Ended transactions remembered for idempotent repeats; oldest forgotten first.
const MAX_OUTCOMES = 10_000;

/** Bounded memory of ended transactions, so repeated commits and rollbacks answer consistently. */
class Outcomes {
  private readonly map = new Map<string, Outcome>();

  get(key: string): Outcome | undefined {
    return this.map.get(key);
  }

  set(key: string, outcome: Outcome): void {
    this.map.delete(key);
    this.map.set(key, outcome);
    if (this.map.size > MAX_OUTCOMES) this.map.delete(this.map.keys().next().value!);
  }

  delete(key: string): void {
    this.map.delete(key);
  }
}

export interface RecoveryReport {
  preparedTransactions: number;
  preparedBytes: number;
  /** Sidecars whose data had already been renamed onto the chunk: commits that finished. */
  recoveredCommits: number;
  /** Half-written prepared files and stale sidecars removed. */
  removedPreparedFiles: number;
}

/**
 * Prepared transactions and the outcomes of recent ones. Work on one transaction (kind,
 * chunk id, transaction id) is serialized by its own lock; anything touching the chunk takes
 * the chunk lock inside it (never the other way round, so the two cannot deadlock).
 */
export class Transactions {
  private readonly lock = new KeyLock();
  private readonly prepared = new Map<string, PreparedTx>();
  private readonly outcomes = new Outcomes();

  private constructor(
    private readonly store: ChunkStore,
    private readonly area: PreparedArea,
    private readonly maxPrepared: number,
  ) {}

  /** A new transaction (not a re-prepare of a pending one) must fit under max_prepared. */
  private checkCount(key: string): void {
    if (!this.prepared.has(key) && this.prepared.size >= this.maxPrepared) throw tooManyPrepared(this.maxPrepared);
  }

  /**
   * Reloads what survived a restart. Runs before `store` takes requests; the bytes of the
   * reloaded transactions are part of the `used` it was opened with (`preparedBytes`).
   */
  static async recover(store: ChunkStore, area: Awaited<ReturnType<typeof Transactions.scan>>, maxPrepared: number): Promise<Transactions> {
    const txs = new Transactions(store, area.area, maxPrepared);
    for (const { stem, sidecar } of area.kept) if (sidecar.format === 1) await store.repairPreparedSums(area.area.versionPaths(stem));
    for (const sidecar of area.committed) {
      txs.outcomes.set(keyOf(sidecar.kind, sidecar.chunk_id, sidecar.transaction_id), 'committed');
    }
    for (const { stem, sidecar } of area.kept) {
      let baseVersion = STALE_VERSION;
      if (sidecar.format === 2) {
        if (store.lastTxOf(sidecar.chunk_id) === sidecar.transaction_id) {
          // Committed, then the crash came before the files went.
          txs.outcomes.set(keyOf(sidecar.kind, sidecar.chunk_id, sidecar.transaction_id), 'committed');
          await area.area.discard(stem);
          store.space.release(txCharge(sidecar.format, sidecar.size));
          continue;
        }
        baseVersion = sidecar.base_version!;
      } else if (sidecar.kind === 'append') {
        // A v1 prepared append: the chunk still is the version it was built on when its size
        // and nanosecond mtime match (v1 also compared the inode; a data directory restored
        // from a copy has new inodes, and v1 renamed a new file in for every change, so
        // size and mtime to the nanosecond suffice).
        const now = await store.identityOf(sidecar.chunk_id);
        const base = sidecar.base ?? null;
        const same = now === null ? base === null : base !== null && now.size === base.size && now.mtime_ns === base.mtime_ns;
        if (same) baseVersion = store.versionOf(sidecar.chunk_id);
      }
      const tx: PreparedTx = {
        kind: sidecar.kind,
        chunkId: sidecar.chunk_id,
        transactionId: sidecar.transaction_id,
        size: sidecar.size,
        createdAt: sidecar.created_at,
        stem,
        baseVersion,
        format: sidecar.format,
        offset: sidecar.offset ?? 0,
        crc: sidecar.crc ?? 0,
      };
      txs.prepared.set(keyOf(tx.kind, tx.chunkId, tx.transactionId), tx);
    }
    return txs;
  }

  /** Reads the `.prepared` folder of `chunkDir`, removing what a crash left half-done. */
  static async scan(chunkDir: string): Promise<{
    area: PreparedArea;
    kept: ScannedTx[];
    committed: Sidecar[];
    report: RecoveryReport;
  }> {
    const { area, kept, committed, removed } = await PreparedArea.open(join(chunkDir, PREPARED_DIR));
    const preparedBytes = kept.reduce((sum, k) => sum + txCharge(k.sidecar.format, k.sidecar.size), 0);
    return {
      area,
      kept,
      committed,
      report: { preparedTransactions: kept.length, preparedBytes, recoveredCommits: committed.length, removedPreparedFiles: removed },
    };
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
      const space = this.store.space;
      if (!space.tryReserve(txCharge(1, data.length))) throw new InsufficientSpaceError(space.available);
      const stem = this.area.newStem();
      try {
        await this.area.ensure();
      } catch (err) {
        space.release(txCharge(1, data.length));
        throw err;
      }
      try {
        await this.store.writeNewVersion(this.area.versionPaths(stem), data);
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
      const baseVersion = await this.store.withChunkLock(chunkId, async () => {
        const current = this.store.sizeOf(chunkId) ?? 0;
        if (offset > current) throw new BadOffsetError(current);
        return this.store.versionOf(chunkId);
      });
      const space = this.store.space;
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
      this.store.space.release(txCharge(earlier.format, earlier.size));
    }
    return tx;
  }

  /** Undoes a prepare that failed before it was recorded. */
  private async abandon(stem: string, reservedBytes: number): Promise<void> {
    await this.area.discard(stem).catch(() => undefined);
    this.store.space.release(reservedBytes);
  }

  /** Deletes a prepared transaction's files and frees its space. Runs under the transaction lock. */
  private async drop(tx: PreparedTx): Promise<void> {
    await this.area.discard(tx.stem);
    this.store.space.release(txCharge(tx.format, tx.size));
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
        throw noPreparedData();
      }
      if (tx.format === 2) return this.commitRecord(key, tx);
      let done: { replacedBytes: number; version: number } | null;
      try {
        done = await this.store.withChunkLock(chunkId, async () => {
          if (kind === 'append' && this.store.versionOf(chunkId) !== tx.baseVersion) return null;
          const replacedBytes = this.store.sizeOf(chunkId) ?? 0;
          const version = await this.store.installPreparedLocked(chunkId, this.area.versionPaths(tx.stem), tx.size, txCharge(tx.format, tx.size), () => this.area.sync());
          crashPoint('commit.installed');
          return { replacedBytes, version };
        });
      } catch (err) {
        // The rename landed and only a directory fsync failed: the data is the chunk now.
        if (!(await this.area.hasData(tx.stem))) {
          this.prepared.delete(key);
          this.outcomes.set(key, 'committed');
          await this.area.forgetCommitted(tx.stem).catch(() => undefined);
        }
        throw err;
      }
      if (done === null) return this.conflicted(key, tx);
      this.prepared.delete(key);
      this.outcomes.set(key, 'committed');
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
    this.prepared.delete(key);
    this.outcomes.set(key, 'rolled_back');
    throw conflict();
  }

  /** commit_append of a format-2 record: applied by the store, then its files go. Runs under the transaction lock. */
  private async commitRecord(key: string, tx: PreparedTx): Promise<CommitResult> {
    const data = await this.area.readRecord(tx.stem);
    if (data.length !== tx.size || crc32(data) !== tx.crc) throw new CorruptChunkError();
    const space = this.store.space;
    // The store frees what it does not keep of the reservation, or all of it on a failure;
    // a failed commit leaves the transaction holding its bytes again.
    const done = await this.store
      .commitPreparedAppend(tx.chunkId, { offset: tx.offset, data, baseVersion: tx.baseVersion, reserved: txCharge(tx.format, tx.size), transactionId: tx.transactionId })
      .catch(async (err: unknown) => {
        space.restore(txCharge(tx.format, tx.size));
        // The chunk was quarantined: the record can never apply; it is rolled back.
        if (err instanceof CorruptChunkError) await this.drop(tx).then(() => this.forget(key, 'rolled_back'));
        throw err;
      });
    if (done === null) return this.conflicted(key, tx);
    this.prepared.delete(key);
    this.outcomes.set(key, 'committed');
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
        if (this.outcomes.get(key) === 'committed') throw alreadyCommitted();
        return { found: false };
      }
      await this.drop(tx);
      this.prepared.delete(key);
      this.outcomes.set(key, 'rolled_back');
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
        this.prepared.delete(key);
        this.outcomes.set(key, 'rolled_back');
        expired.push(tx);
      });
    }
    return expired;
  }

  close(): Promise<void> {
    return this.area.close();
  }
}
