import { isAbsolute, join } from 'node:path';
import type { Logger } from 'pino';
import type { ChunkServerConfig } from '../../config/chunk-server.js';
import { ChunkStore } from '../../storage/index.js';
import type { BufferPool } from '../../wire/buffer-pool.js';
import { openTransactionLog, type TransactionLog } from '../transaction-log.js';
import type { Layout } from './layout.js';

/** Opens the chunk store (recovering what a crash left) and says in the log what recovery did; `chunks`: how many it found. */
export async function openStore(config: ChunkServerConfig, layout: Layout, pool: BufferPool, log: Logger): Promise<{ store: ChunkStore; chunks: number }> {
  const { store, report } = await ChunkStore.open(layout.chunkDir, layout.limitBytes, {
    pool,
    log,
    fsync: config.fsync,
    maxPrepared: config.maxPrepared,
    walBytes: config.walMaxKb * 1024,
    walStoreBytes: config.walStoreMaxKb * 1024,
    // The bound a staged value's wait has (listener.ts), so whole and staged stores wait alike.
    spaceWaitMs: (config.frameTimeoutS * 1000) / 2,
  });
  if (report.recomputedSums > 0) log.warn({ chunks: report.recomputedSums }, 'recomputed checksums of chunks whose records were missing or stale');
  if (report.quarantined > 0) log.error({ chunks: report.quarantined }, 'quarantined chunks found damaged at start-up');
  if (report.truncated > 0) log.warn({ chunks: report.truncated }, 'cut chunks back to their committed length (appends that never committed)');
  if (report.replayed > 0) log.warn({ chunks: report.replayed }, 'replayed unfinished overwrites from the redo log');
  if (report.upgradedSums > 0) log.info({ chunks: report.upgradedSums }, 'upgraded v1 checksum files into the metadata store');
  if (report.corruptPending > 0) log.warn({ chunks: report.corruptPending }, 'corrupt chunks not yet reported to the master');
  if (report.removedTempFiles > 0) log.warn({ removed: report.removedTempFiles }, 'removed temp files of unfinished stores');
  if (report.removedDataFiles > 0) log.warn({ removed: report.removedDataFiles }, 'removed data files no record names (unpublished large stores, replaced versions)');
  if (report.removedPreparedFiles > 0) log.warn({ removed: report.removedPreparedFiles }, 'removed files of unfinished prepares');
  if (report.preparedTransactions > 0 || report.recoveredCommits > 0) {
    log.info(
      { prepared: report.preparedTransactions, prepared_bytes: report.preparedBytes, finished_commits: report.recoveredCommits },
      'reloaded prepared transactions',
    );
  }
  if (!config.fsync) log.warn('fsync = false: acknowledged chunks can be lost or left empty by a power loss or kernel crash');
  return { store, chunks: report.chunks };
}

/** The transaction log; a relative [chunk_server] transaction_log is under data_dir. */
export function openTxLog(config: ChunkServerConfig, layout: Layout, log: Logger): TransactionLog {
  const path = isAbsolute(config.transactionLog) ? config.transactionLog : join(layout.dataDir, config.transactionLog);
  return openTransactionLog(path, config.serverId, log);
}
