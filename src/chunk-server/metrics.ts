import { readdir, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { MasterClient } from './cluster/master-client.js';
import type { ChunkStore } from '../storage/index.js';
import { QUARANTINE_DIR } from '../storage/index.js';
import { registerBuildInfo } from '../http/build-info.js';
import { RequestMetrics } from '../http/request-metrics.js';

export interface ChunkMetricsSources {
  readonly store: ChunkStore;
  readonly chunkDir: string;
  /** The master link, once it exists (it is made after the listener). */
  readonly masterLink: () => MasterClient | null;
  readonly commands: readonly string[];
}

/**
 * The chunk server's registry. Everything but requests and bytes is read from the store
 * when Prometheus scrapes, so nothing on the request path pays for it.
 */
export function chunkServerMetrics(src: ChunkMetricsSources): { registry: Registry; requests: RequestMetrics } {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  registerBuildInfo(registry, 'chunkserver');
  const requests = new RequestMetrics(registry, 'chunkserver', new Set(src.commands));
  const { store } = src;
  const gauge = (name: string, help: string, value: () => number | Promise<number>): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        this.set(await value());
      },
    });
  };
  gauge('chunkserver_space_limit_bytes', 'Most bytes this server may hold (--space)', () => store.space.limitBytes);
  gauge('chunkserver_space_used_bytes', 'Bytes held or reserved in the chunk directory', () => store.space.used);
  gauge('chunkserver_space_reserved_bytes', 'Bytes reserved by writes under way and prepared transactions, not yet in a chunk', () => {
    let committed = 0;
    for (const id of store.chunkIds()) committed += store.sizeOf(id) ?? 0;
    return Math.max(0, store.space.used - committed);
  });
  gauge('chunkserver_chunks', 'Chunks held', () => store.chunkCount);
  gauge('chunkserver_prepared_transactions', 'Prepared transactions waiting for commit or rollback', () => store.transactions.count);
  gauge('chunkserver_corrupt_chunks_unreported', 'Chunks found corrupt and quarantined that the master has not acknowledged yet', () => store.corruptChunks().length);
  gauge('chunkserver_quarantined_chunks', 'Findings kept in the quarantine folder (reported or not)', async () => {
    try {
      return (await readdir(join(src.chunkDir, QUARANTINE_DIR))).length;
    } catch {
      return 0;
    }
  });
  gauge('chunkserver_scrub_last_pass_timestamp_seconds', 'Start of the last complete scrub pass (0: none yet)', async () => ((await store.lastScrub()) ?? 0) / 1000);
  // The disk under the chunk directory, whatever --space says: a limit above what the disk
  // still has (other tenants, a full root) shows here before writes fail with ENOSPC.
  const disk = async (): Promise<{ free: number; size: number }> => {
    try {
      const f = await statfs(src.chunkDir);
      return { free: f.bavail * f.bsize, size: f.blocks * f.bsize };
    } catch {
      return { free: 0, size: 0 };
    }
  };
  gauge('chunkserver_filesystem_free_bytes', 'Bytes free for this process on the file system of the chunk directory (statfs bavail)', async () => (await disk()).free);
  gauge('chunkserver_filesystem_size_bytes', 'Size of the file system of the chunk directory (statfs)', async () => (await disk()).size);
  gauge('chunkserver_master_up', '1 when the last exchange with the master succeeded, else 0', () => (src.masterLink()?.linkUp ? 1 : 0));
  return { registry, requests };
}
