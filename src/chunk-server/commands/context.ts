import type { Logger } from 'pino';
import type { Cluster } from '../cluster/replication.js';
import type { BufferPool } from '../../wire/buffer-pool.js';
import type { ChunkStore } from '../../storage/index.js';

/** What a handler may use. Handlers never see sockets or framing. */
export interface HandlerContext {
  readonly store: ChunkStore;
  readonly log: Logger;
  /** The transaction log: START / PREPARE / COMMIT / ROLLBACK / EXPIRE lines, its own destination. */
  readonly txlog: Logger;
  /** Reused I/O blocks for streaming files into replies. */
  readonly pool: BufferPool;
  /** Master and peers; without a master it replicates nothing. */
  readonly cluster: Cluster;
}
