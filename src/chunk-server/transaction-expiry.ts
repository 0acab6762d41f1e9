import type { Logger } from 'pino';
import type { ChunkStore } from '../storage/index.js';

// The expiry sweep runs a few times per TTL, within these bounds.
const SWEEP_MIN_MS = 50;
const SWEEP_MAX_MS = 10_000;

/** Rolls back transactions older than the TTL, a few times per TTL. `stop` waits for a sweep in progress. */
export function startExpirySweep(store: ChunkStore, ttlMs: number, txlog: Logger, log: Logger): { stop(): Promise<void> } {
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
