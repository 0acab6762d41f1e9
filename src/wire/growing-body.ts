import type { BufferPool, Lease } from './buffer-pool.js';
import type { MemoryBudget } from './memory-budget.js';

// The first buffer a split body gets; it doubles as bytes arrive, never past the body's length.
const FIRST_BYTES = 64 * 1024;
// From this size on, buffers come from the pool (its size classes are the same doublings).
const POOLED_MIN_BYTES = 64 * 1024;

/**
 * A frame body of announced `length`, assembled as its bytes arrive. Memory follows what was
 * received, not what the length prefix claims: a client that announces 80 MiB and sends 5
 * bytes holds 64 KiB. Each doubling copies what is there, so a body is copied at most twice
 * over in all. A failed allocation throws (RangeError) from `append`; what was held is freed.
 */
export class GrowingBody {
  private buf: Buffer;
  private lease: Lease | null = null;
  private filled = 0;

  constructor(
    readonly length: number,
    private readonly pool: BufferPool,
    private readonly budget: MemoryBudget | null = null,
  ) {
    this.buf = this.allocate(Math.min(length, FIRST_BYTES));
  }

  get received(): number {
    return this.filled;
  }

  get complete(): boolean {
    return this.filled === this.length;
  }

  /** Copies up to what the body still lacks from `chunk[pos, end)`; returns the bytes taken. */
  append(chunk: Buffer, pos: number, end: number): number {
    const take = Math.min(this.length - this.filled, end - pos);
    if (this.filled + take > this.buf.length) this.grow(this.filled + take);
    chunk.copy(this.buf, this.filled, pos, pos + take);
    this.filled += take;
    return take;
  }

  /** The whole body once complete; `lease` (if any) goes with it and must be released by the taker. */
  take(): { body: Buffer; lease: Lease | null } {
    const out = { body: this.buf, lease: this.lease };
    this.lease = null;
    return out;
  }

  dispose(): void {
    this.lease?.release();
    this.lease = null;
  }

  private grow(need: number): void {
    let cap = this.buf.length;
    while (cap < need) cap = Math.min(this.length, cap * 2);
    const old = this.buf;
    const oldLease = this.lease;
    this.lease = null;
    try {
      this.buf = this.allocate(cap);
    } catch (err) {
      oldLease?.release();
      this.buf = Buffer.alloc(0);
      throw err;
    }
    old.copy(this.buf, 0, 0, this.filled);
    oldLease?.release();
  }

  /** Pooled buffers are charged to the budget until their lease is released (by whoever took the body). */
  private allocate(bytes: number): Buffer {
    if (bytes < POOLED_MIN_BYTES) return Buffer.allocUnsafe(bytes);
    const budget = this.budget;
    budget?.take(bytes);
    let lease: Lease;
    try {
      lease = this.pool.acquire(bytes);
    } catch (err) {
      budget?.give(bytes);
      throw err;
    }
    let given = false;
    this.lease = {
      buf: lease.buf,
      release: () => {
        if (given) return;
        given = true;
        budget?.give(bytes);
        lease.release();
      },
    };
    return lease.buf;
  }
}
