import { join } from 'node:path';
import type { Logger } from 'pino';
import type { BufferPool } from '../../wire/buffer-pool.js';
import type { ChunkTable } from '../chunks/table.js';
import { repairPreparedSums } from './prepared-sums.js';
import { keyOf, PREPARED_DIR, PreparedArea, type ScannedTx, type Sidecar } from './prepared-area.js';
import { txCharge } from '../space/charges.js';
import { Outcomes, STALE_VERSION, type PreparedTx, type RecoveryReport } from './prepared-tx.js';

export interface ScannedArea {
  area: PreparedArea;
  kept: ScannedTx[];
  committed: Sidecar[];
  report: RecoveryReport;
}

/** Reads the `.prepared` folder of `chunkDir`, removing what a crash left half-done. */
export async function scanPrepared(chunkDir: string): Promise<ScannedArea> {
  const { area, kept, committed, removed } = await PreparedArea.open(join(chunkDir, PREPARED_DIR));
  const preparedBytes = kept.reduce((sum, k) => sum + txCharge(k.sidecar.format, k.sidecar.size), 0);
  return {
    area,
    kept,
    committed,
    report: { preparedTransactions: kept.length, preparedBytes, recoveredCommits: committed.length, removedPreparedFiles: removed },
  };
}

/**
 * Turns what survived a restart back into pending transactions and known outcomes. Runs
 * before the store takes requests; the bytes of the reloaded transactions are part of the
 * `used` it was opened with (`preparedBytes`).
 */
export async function recoverPrepared(
  table: ChunkTable,
  scanned: ScannedArea,
  pool: BufferPool,
  log: Logger,
): Promise<{ prepared: Map<string, PreparedTx>; outcomes: Outcomes }> {
  const { area } = scanned;
  const prepared = new Map<string, PreparedTx>();
  const outcomes = new Outcomes();
  for (const { stem, sidecar } of scanned.kept) if (sidecar.format === 1) await repairPreparedSums(area.versionPaths(stem), pool, log);
  for (const sidecar of scanned.committed) {
    outcomes.set(keyOf(sidecar.kind, sidecar.chunk_id, sidecar.transaction_id), 'committed');
  }
  for (const { stem, sidecar } of scanned.kept) {
    let baseVersion = STALE_VERSION;
    if (sidecar.format === 2) {
      if (table.lastTxOf(sidecar.chunk_id) === sidecar.transaction_id) {
        // Committed, then the crash came before the files went.
        outcomes.set(keyOf(sidecar.kind, sidecar.chunk_id, sidecar.transaction_id), 'committed');
        await area.discard(stem);
        table.space.adopt(txCharge(sidecar.format, sidecar.size)).release();
        continue;
      }
      baseVersion = sidecar.base_version!;
    } else if (sidecar.kind === 'append') {
      // A v1 prepared append: the chunk still is the version it was built on when its size
      // and nanosecond mtime match (v1 also compared the inode; a data directory restored
      // from a copy has new inodes, and v1 renamed a new file in for every change, so
      // size and mtime to the nanosecond suffice).
      const now = await table.identityOf(sidecar.chunk_id);
      const base = sidecar.base ?? null;
      const same = now === null ? base === null : base !== null && now.size === base.size && now.mtime_ns === base.mtime_ns;
      if (same) baseVersion = table.versionOf(sidecar.chunk_id);
    }
    const tx: PreparedTx = {
      kind: sidecar.kind,
      chunkId: sidecar.chunk_id,
      transactionId: sidecar.transaction_id,
      size: sidecar.size,
      reservation: table.space.adopt(txCharge(sidecar.format, sidecar.size)),
      createdAt: sidecar.created_at,
      stem,
      baseVersion,
      format: sidecar.format,
      offset: sidecar.offset ?? 0,
      crc: sidecar.crc ?? 0,
    };
    prepared.set(keyOf(tx.kind, tx.chunkId, tx.transactionId), tx);
  }
  return { prepared, outcomes };
}
