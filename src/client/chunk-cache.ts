// The library's read cache (issue 25 item 8): chunk bytes by (chunk id, version), least
// recently used dropped first, never more than its bound. An entry keeps what proved its
// bytes, and is served only while the master still vouches for that proof.
import type { CacheProof, ChunkCheck } from './read-check.js';


interface Entry {
  readonly bytes: Buffer;
  readonly proof: CacheProof;
}

export interface CacheStats {
  readonly hits: number;
  readonly misses: number;
  readonly entries: number;
  readonly bytes: number;
  readonly maxBytes: number;
}

export class ChunkCache {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  private hits = 0;
  private misses = 0;

  constructor(readonly maxBytes: number) {}

  /** The first `size` bytes of the chunk, if cached at this version and still vouched for. */
  get(chunkId: string, size: number, check: ChunkCheck): Buffer | null {
    const key = keyOf(chunkId, check.version);
    const e = this.entries.get(key);
    const vouched = e !== undefined && e.bytes.length === size && (e.proof === 'sha256' || check.digests.some((d) => typeof e.proof !== 'string' && d.length === e.proof.length && d.digest === e.proof.digest));
    if (!vouched) {
      this.misses++;
      return null;
    }
    // Map order is insertion order: re-inserting makes it the most recently used.
    this.entries.delete(key);
    this.entries.set(key, e);
    this.hits++;
    return e.bytes;
  }

  /** Whether bytes of this size would be kept at all. */
  fits(size: number): boolean {
    return size > 0 && size <= this.maxBytes;
  }

  put(chunkId: string, version: number, bytes: Buffer, proof: CacheProof): void {
    if (!this.fits(bytes.length)) return;
    const key = keyOf(chunkId, version);
    const old = this.entries.get(key);
    if (old) {
      this.entries.delete(key);
      this.bytes -= old.bytes.length;
    }
    this.entries.set(key, { bytes, proof });
    this.bytes += bytes.length;
    for (const [k, e] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(k);
      this.bytes -= e.bytes.length;
    }
  }

  stats(): CacheStats {
    return { hits: this.hits, misses: this.misses, entries: this.entries.size, bytes: this.bytes, maxBytes: this.maxBytes };
  }
}

function keyOf(chunkId: string, version: number): string {
  return `${chunkId}@${version}`;
}
