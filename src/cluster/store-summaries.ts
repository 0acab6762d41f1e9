// TEMPORARY ADAPTER (delete once the storage branch's listChunks/summaryOf/onChange land in
// main; INTERFACES.md "Storage -> cluster"). It derives chunk summaries from today's
// ChunkStore by watching its in-memory version counter and reading each new version's sums
// file. Versions here are per-server counters that other servers do not share, so they are
// reported as 0 ("not told"), which the master's stale rule leaves out.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeSums } from '../storage/checksums.js';
import { META_DIR, SUMS_SUFFIX, type ChunkStore } from '../storage/chunk-store.js';

export interface ChunkSummary {
  chunk_id: string;
  length: number;
  version: number;
  digest: string;
}

export type ChunkChange = ChunkSummary | { chunk_id: string; deleted: true };

/** What the cluster code needs of storage (the agreed interface). */
export interface SummarySource {
  listChunks(): ChunkSummary[];
  summaryOf(chunkId: string): ChunkSummary | undefined;
  onChange(listener: (c: ChunkChange) => void): () => void;
}

/** A pure function of (length, block sums): equal bytes give equal digests on every server. */
export function digestOf(length: number, crcs: Uint32Array): string {
  const h = createHash('sha256');
  const head = Buffer.alloc(8);
  head.writeBigUInt64BE(BigInt(length));
  h.update(head);
  const body = Buffer.alloc(crcs.length * 4);
  crcs.forEach((c, i) => body.writeUInt32BE(c, i * 4));
  h.update(body);
  return h.digest('hex').slice(0, 32);
}

const POLL_MS = 50;

export class StoreSummaries implements SummarySource {
  private readonly known = new Map<string, { storeVersion: number; summary: ChunkSummary }>();
  private readonly listeners = new Set<(c: ChunkChange) => void>();
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> = Promise.resolve();
  private stopped = false;
  readonly ready: Promise<void>;

  constructor(private readonly store: ChunkStore) {
    this.ready = this.poll(false);
    this.polling = this.ready;
    void this.ready.then(() => this.schedule());
  }

  listChunks(): ChunkSummary[] {
    return [...this.known.values()].map((k) => k.summary);
  }

  summaryOf(chunkId: string): ChunkSummary | undefined {
    return this.known.get(chunkId)?.summary;
  }

  onChange(listener: (c: ChunkChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.polling;
  }

  /** Takes a change of one chunk now rather than at the next poll (before a commit is acknowledged). */
  async refresh(chunkId: string): Promise<void> {
    const v = this.store.versionOf(chunkId);
    if (v === 0) {
      if (this.known.delete(chunkId)) for (const l of this.listeners) l({ chunk_id: chunkId, deleted: true });
      return;
    }
    if (this.known.get(chunkId)?.storeVersion === v) return;
    const summary = await this.read(chunkId);
    if (summary === null || this.store.versionOf(chunkId) !== v || this.known.get(chunkId)?.storeVersion === v) return;
    this.known.set(chunkId, { storeVersion: v, summary });
    for (const l of this.listeners) l(summary);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.polling = this.poll(true).finally(() => this.schedule());
    }, POLL_MS);
  }

  private async poll(emit: boolean): Promise<void> {
    const ids = new Set(this.store.chunkIds());
    for (const id of ids) {
      const v = this.store.versionOf(id);
      if (this.known.get(id)?.storeVersion === v) continue;
      const summary = await this.read(id);
      // Replaced while its sums were read: the next poll takes the newer version.
      if (summary === null || this.store.versionOf(id) !== v) continue;
      this.known.set(id, { storeVersion: v, summary });
      if (emit) for (const l of this.listeners) l(summary);
    }
    for (const id of [...this.known.keys()]) {
      if (ids.has(id)) continue;
      this.known.delete(id);
      if (emit) for (const l of this.listeners) l({ chunk_id: id, deleted: true });
    }
  }

  private async read(chunkId: string): Promise<ChunkSummary | null> {
    const size = this.store.sizeOf(chunkId);
    if (size === undefined) return null;
    let raw: Buffer;
    try {
      raw = await readFile(join(this.store.dir, META_DIR, `${chunkId}${SUMS_SUFFIX}`));
    } catch {
      return null;
    }
    const decoded = decodeSums(raw);
    if (decoded.kind !== 'ok' || decoded.sums.size !== size) return null;
    return { chunk_id: chunkId, length: size, version: 0, digest: digestOf(size, decoded.sums.crcs) };
  }
}
