import { stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { ChunkFiles } from './chunk-files.js';
import type { ChunkRecord, ChunkRecords } from './chunk-records.js';
import type { ChunkChange, ChunkSummary } from '../wire/chunk-report.js';
import { digestOf, type ChunkIdentity } from './chunk-types.js';
import { crashPoint } from './crash-points.js';
import { KeyLock } from './key-lock.js';
import { charge, type SpaceAccount } from './space.js';

/**
 * The committed state of every chunk: its record in the metadata store, mirrored in memory
 * so that reads of it cost no I/O, and the per-chunk lock every change runs under. The
 * mirror and the store are only changed together, under the chunk's lock, and every change
 * is told to the listeners (the cluster's summaries).
 */
export class ChunkTable {
  private readonly lock = new KeyLock();
  private readonly listeners = new Set<(c: ChunkChange) => void>();

  constructor(
    readonly files: ChunkFiles,
    readonly records: ChunkRecords,
    readonly chunks: Map<string, ChunkRecord>,
    readonly space: SpaceAccount,
    private readonly log: Logger,
  ) {}

  get(chunkId: string): ChunkRecord | undefined {
    return this.chunks.get(chunkId);
  }

  sizeOf(chunkId: string): number | undefined {
    return this.chunks.get(chunkId)?.size;
  }

  versionOf(chunkId: string): number {
    return this.chunks.get(chunkId)?.version ?? 0;
  }

  lastTxOf(chunkId: string): string | undefined {
    return this.chunks.get(chunkId)?.lastTx;
  }

  sumsOf(chunkId: string): { size: number; crcs: Uint32Array } | undefined {
    const r = this.chunks.get(chunkId);
    return r && { size: r.size, crcs: r.crcs };
  }

  listChunks(): ChunkSummary[] {
    return [...this.chunks.keys()].map((id) => this.summaryOf(id)!);
  }

  summaryOf(chunkId: string): ChunkSummary | undefined {
    const r = this.chunks.get(chunkId);
    return r && { chunk_id: chunkId, length: r.size, version: r.version, digest: digestOf(r.size, r.crcs) };
  }

  onChange(listener: (c: ChunkChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(chunkId: string): void {
    const change: ChunkChange = this.summaryOf(chunkId) ?? { chunk_id: chunkId, deleted: true };
    for (const l of this.listeners) {
      try {
        l(change);
      } catch (err) {
        this.log.warn({ err }, 'chunk change listener failed');
      }
    }
  }

  withChunkLock<T>(chunkId: string, work: () => Promise<T>): Promise<T> {
    return this.lock.run(chunkId, work);
  }

  /** The on-disk identity of the chunk file as v1 named it; null when there is no chunk. */
  async identityOf(chunkId: string): Promise<ChunkIdentity | null> {
    try {
      const st = await stat(this.files.path(chunkId), { bigint: true });
      return { size: Number(st.size), ino: st.ino.toString(), mtime_ns: st.mtimeNs.toString() };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  /** Removes a chunk; false when there was none. */
  delete(chunkId: string): Promise<boolean> {
    return this.withChunkLock(chunkId, async () => {
      const existed = await this.files.remove(chunkId);
      const size = this.sizeOf(chunkId);
      this.space.release(size === undefined ? 0 : charge(size));
      const had = this.chunks.delete(chunkId);
      if (existed) await this.files.syncDir();
      crashPoint('delete.unlinked');
      // Left behind by a crash, the record names no file and start-up drops it.
      if (had) await this.records.remove(chunkId);
      if (had || existed) this.emit(chunkId);
      return existed;
    });
  }
}
