import { isAbsolute, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { ChunkServerConfig } from './config.js';
import type { HandlerContext } from './handlers/context.js';
import { listen } from './server.js';
import { ChunkStore } from './storage/chunk-store.js';
import { startScrubber } from './storage/scrubber.js';
import { recordedPort, recordServer } from './storage/server-info.js';
import { openTransactionLog, type TransactionLog } from './transaction-log.js';
import { BufferPool } from './wire/buffer-pool.js';

const MIB = 1024 * 1024;
// The expiry sweep runs a few times per TTL, within these bounds.
const SWEEP_MIN_MS = 50;
const SWEEP_MAX_MS = 10_000;

export interface ChunkServer {
  readonly address: string;
  readonly port: number;
  readonly store: ChunkStore;
  /** Stops accepting, finishes in-flight requests (bounded by shutdown_grace_s), closes the store. Safe to call again. */
  stop(): Promise<void>;
}

/** Wires store, handlers and listener together from a resolved configuration. */
export async function startChunkServer(config: ChunkServerConfig, log: Logger): Promise<ChunkServer> {
  const dataDir = resolve(config.dataDir);
  const chunkDir = join(dataDir, config.serverId);
  const infoFile = join(dataDir, config.serverInfoFile);
  const limitBytes = Math.floor(config.spaceMb * MIB);

  const pool = new BufferPool(Math.floor(config.bufferPoolMb * MIB));
  const { store, report } = await ChunkStore.open(chunkDir, limitBytes, { pool, log });
  if (report.recomputedSums > 0) log.warn({ chunks: report.recomputedSums }, 'recomputed checksums of chunks whose checksums were missing or stale');
  if (report.quarantined > 0) log.error({ chunks: report.quarantined }, 'quarantined chunks whose checksum files were damaged');
  if (report.corruptPending > 0) log.warn({ chunks: report.corruptPending }, 'corrupt chunks not yet reported to the master');
  if (report.removedTempFiles > 0) log.warn({ removed: report.removedTempFiles }, 'removed temp files of unfinished stores');
  if (report.removedPreparedFiles > 0) log.warn({ removed: report.removedPreparedFiles }, 'removed files of unfinished prepares');
  if (report.preparedTransactions > 0 || report.recoveredCommits > 0) {
    log.info(
      { prepared: report.preparedTransactions, prepared_bytes: report.preparedBytes, finished_commits: report.recoveredCommits },
      'reloaded prepared transactions',
    );
  }

  let txLog: TransactionLog;
  try {
    txLog = openTransactionLog(transactionLogPath(config, dataDir), config.serverId, log);
  } catch (err) {
    await store.close();
    throw err;
  }

  const ctx: HandlerContext = { store, log, txlog: txLog.log, pool };
  const port = config.port ?? (await recordedPort(infoFile, config.serverId)) ?? 0;
  let server;
  try {
    server = await listen({
      host: config.host,
      port,
      limits: {
        maxFrameBytes: Math.floor(config.maxMessageMb * MIB),
        idleTimeoutMs: config.idleTimeoutS * 1000,
        frameTimeoutMs: config.frameTimeoutS * 1000,
      },
      maxConnections: config.maxConnections,
      ctx,
      log,
    });
  } catch (err) {
    txLog.close();
    await store.close();
    throw err;
  }
  const sweeper = startExpirySweep(store, config.transactionTtlS * 1000, txLog.log, log);
  const scrubber = startScrubber(store, { intervalMs: config.scrubIntervalS * 1000, rateBytesPerS: config.scrubRateMbS * MIB, log });
  await recordServer(infoFile, config.serverId, { port: server.port, data_dir: chunkDir, last_start: Date.now() / 1000 });

  const address = `${config.host}:${server.port}`;
  let stopped: Promise<void> | undefined;
  log.info(
    { address, chunk_dir: chunkDir, space_limit: limitBytes, used: store.space.used, chunks: report.chunks },
    'chunk server listening',
  );

  return {
    address,
    port: server.port,
    store,
    stop() {
      stopped ??= (async () => {
        await server.close(config.shutdownGraceS * 1000);
        await Promise.all([sweeper.stop(), scrubber.stop()]);
        txLog.close();
        await store.close();
      })();
      return stopped;
    },
  };
}

function transactionLogPath(config: ChunkServerConfig, dataDir: string): string {
  return isAbsolute(config.transactionLog) ? config.transactionLog : join(dataDir, config.transactionLog);
}

/** Rolls back transactions older than the TTL, a few times per TTL. `stop` waits for a sweep in progress. */
function startExpirySweep(store: ChunkStore, ttlMs: number, txlog: Logger, log: Logger): { stop(): Promise<void> } {
  let running: Promise<void> | null = null;
  const sweep = async (): Promise<void> => {
    const now = Date.now();
    try {
      const expired = await store.transactions.expire(now - ttlMs);
      for (const tx of expired) {
        txlog.info(
          { kind: tx.kind, transaction_id: tx.transactionId, chunk_id: tx.chunkId, size: tx.size, age_ms: now - tx.createdAt },
          'EXPIRE',
        );
      }
      if (expired.length > 0) {
        const bytes = expired.reduce((sum, tx) => sum + tx.size, 0);
        log.info({ expired: expired.length, released_bytes: bytes }, 'rolled back expired transactions');
      }
    } catch (err) {
      log.error({ err }, 'transaction expiry sweep failed');
    }
  };
  const timer = setInterval(() => {
    running ??= sweep().finally(() => (running = null));
  }, Math.min(SWEEP_MAX_MS, Math.max(SWEEP_MIN_MS, ttlMs / 4)));
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
