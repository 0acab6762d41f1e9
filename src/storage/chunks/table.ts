import { stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { ChunkFiles } from './files.js';
import type { ChunkRecord, ChunkRecords } from './records.js';
import type { ChunkChange, ChunkSummary } from '../../wire/chunk-report.js';
import { digestOf, type ChunkIdentity } from './types.js';
import { crashPoint } from '../io/crash-points.js';
import { KeyLock } from '../io/key-lock.js';
import { charge } from '../space/charges.js';
import type { Reservation, SpaceAccount } from '../space/space-account.js';

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

  private emit(chunkId: string): void {
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

  /**
   * The one way a chunk's committed state changes; the caller holds the chunk's lock. The
   * record in memory becomes `after` (null: no chunk), the account holds the new record's
   * charge in place of the old one and the reservation, `persist` makes the change durable,
   * and the listeners hear of it. An in-place change persists first: until its record says
   * so, its bytes in the file are not the chunk's. A file renamed over the chunk or removed
   * is the chunk at once, whatever becomes of its persisting (`publishFirst`).
   */
  async commit(chunkId: string, after: ChunkRecord | null, reservation: Reservation | null, persist: () => Promise<void>, publishFirst = false): Promise<void> {
    if (!publishFirst) await persist();
    const before = this.chunks.get(chunkId);
    if (before?.file !== after?.file) await this.files.forget(chunkId);
    if (after) this.chunks.set(chunkId, after);
    else this.chunks.delete(chunkId);
    // Reads and in-place writes follow the record to its data file from now on.
    this.files.nameData(chunkId, after?.file);
    const keep = (after ? charge(after.size) : 0) - (before ? charge(before.size) : 0);
    (reservation ?? this.space.reserve(0)).settle(keep);
    if (publishFirst) await persist();
    this.emit(chunkId);
  }

  /** Removes a chunk; false when there was none. `after` runs under the lock once it is removed. */
  delete(chunkId: string, after?: (chunkId: string) => Promise<void>): Promise<boolean> {
    return this.withChunkLock(chunkId, () => this.deleteLocked(chunkId, after));
  }

  /**
   * Removes a chunk unless `keep` spares it (null), judged on the state the lock finds: a
   * change that was committing when the caller decided is seen, not deleted with the copy.
   */
  deleteUnless(chunkId: string, keep: (now: ChunkSummary) => boolean, after?: (chunkId: string) => Promise<void>): Promise<boolean | null> {
    return this.withChunkLock(chunkId, async () => {
      const now = this.summaryOf(chunkId);
      return now && keep(now) ? null : this.deleteLocked(chunkId, after);
    });
  }

  private async deleteLocked(chunkId: string, after?: (chunkId: string) => Promise<void>): Promise<boolean> {
    const existed = await this.files.remove(chunkId);
    const had = this.chunks.has(chunkId);
    const persist = async (): Promise<void> => {
      if (existed) await this.files.syncDir();
      crashPoint('delete.unlinked');
      // Left behind by a crash, the record names no file and start-up drops it.
      if (had) await this.records.remove(chunkId);
    };
    if (had || existed) await this.commit(chunkId, null, null, persist, true);
    else await persist();
    await after?.(chunkId);
    return existed;
  }
}
