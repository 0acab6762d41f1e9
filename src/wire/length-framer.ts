import { BodyWalker, type WalkedFrame } from './body-walker.js';
import type { BufferPool } from './buffer-pool.js';
import { GrowingBody } from './growing-body.js';
import type { MemoryBudget } from './memory-budget.js';
import type { SpillProvider, SpillTarget } from './payload.js';

/**
 * Every frame is a 4-byte unsigned big-endian length, then that many body bytes. The length
 * counts the body only, never its own 4 bytes: an empty body is the prefix 00 00 00 00.
 */
export const LEN_PREFIX_BYTES = 4;

export type DecodedFrame =
  | WalkedFrame
  /** The declared length is over the limit: the stream can no longer be trusted. */
  | { kind: 'oversize'; length: number };

export interface StreamOptions {
  readonly spill: SpillProvider;
  /** Frame bodies at least this long are walked as they arrive instead of being assembled. */
  readonly minFrameBytes: number;
  /** In a walked frame, top-level bin values at least this long are spilled (default 64 KiB). */
  readonly minSpillBytes?: number;
}

// Below this, a bin value costs less in memory than a temp file costs in system calls.
const DEFAULT_MIN_SPILL_BYTES = 64 * 1024;

/** Gathers one length prefix from reads that may split it at any byte. */
export class LengthPrefix {
  private readonly bytes = Buffer.alloc(LEN_PREFIX_BYTES);
  private filled = 0;

  /** Prefix bytes received of the frame under way; 0 between frames. */
  get seen(): number {
    return this.filled;
  }

  get complete(): boolean {
    return this.filled === LEN_PREFIX_BYTES;
  }

  /** The body length; read it once `complete`. */
  get length(): number {
    return this.bytes.readUInt32BE(0);
  }

  /** Takes what the prefix still lacks from `chunk` at `pos`; returns the bytes taken. */
  take(chunk: Buffer, pos: number): number {
    const n = Math.min(LEN_PREFIX_BYTES - this.filled, chunk.length - pos);
    chunk.copy(this.bytes, this.filled, pos, pos + n);
    this.filled += n;
    return n;
  }

  /** The frame ended: the next byte starts a new prefix. */
  reset(): void {
    this.filled = 0;
  }
}

/**
 * Turns socket reads into whole frame bodies. Cursor based: a body that lies wholly inside
 * one read is returned as a view of it; a split body is copied into a buffer that grows with
 * the bytes received (never sized from the prefix alone), never re-concatenated per read.
 * `push` throws a RangeError when memory for a body cannot be had; the caller then closes.
 * With `stream` options, large bodies are walked instead and their big bin values handed to
 * spill targets as the bytes arrive.
 */
export class LengthFramer {
  private readonly prefix = new LengthPrefix();
  private body: GrowingBody | null = null;
  private walker: BodyWalker | null = null;
  private failed = false;

  constructor(
    private readonly maxFrameBytes: number,
    private readonly pool: BufferPool,
    private readonly stream: StreamOptions | null = null,
    private readonly budget: MemoryBudget | null = null,
  ) {}

  /** Bytes of the frame currently being assembled (for buffer budgets and trickle timeouts). */
  get pendingBytes(): number {
    return this.prefix.seen + (this.walker ? this.walker.consumed : (this.body?.received ?? 0));
  }

  /** True while a frame has started but not finished. */
  get inFrame(): boolean {
    return this.prefix.seen > 0;
  }

  /** The spill target receiving bytes of the frame in progress, if any (for read back-pressure). */
  get activeSpill(): SpillTarget | null {
    return this.walker?.activeTarget ?? null;
  }

  push(chunk: Buffer, out: DecodedFrame[]): void {
    let pos = 0;
    while (pos < chunk.length && !this.failed) {
      if (this.walker !== null) {
        const take = Math.min(this.walker.left, chunk.length - pos);
        this.walker.feed(chunk, pos, pos + take);
        pos += take;
        if (this.walker.left === 0) {
          out.push(this.walker.result());
          this.walker = null;
          this.prefix.reset();
        }
        continue;
      }
      if (this.body !== null) {
        pos += this.body.append(chunk, pos, chunk.length);
        if (this.body.complete) this.finishBody(out);
        continue;
      }
      pos += this.prefix.take(chunk, pos);
      if (!this.prefix.complete) return;
      const length = this.prefix.length;
      if (length > this.maxFrameBytes) {
        this.failed = true;
        out.push({ kind: 'oversize', length });
        return;
      }
      if (this.startWalk(length)) continue;
      if (chunk.length - pos >= length) {
        out.push({ kind: 'frame', body: chunk.subarray(pos, pos + length), lease: null });
        pos += length;
        this.prefix.reset();
        continue;
      }
      this.body = new GrowingBody(length, this.pool, this.budget);
    }
  }

  /** Returns a half-assembled body's slab to the pool and drops spilled bytes (connection closed mid-frame). */
  dispose(): void {
    this.body?.dispose();
    this.body = null;
    this.walker?.abandon();
    this.walker = null;
  }

  private startWalk(length: number): boolean {
    if (this.stream === null || length < this.stream.minFrameBytes || length === 0) return false;
    this.walker = new BodyWalker(length, this.stream.spill, this.stream.minSpillBytes ?? DEFAULT_MIN_SPILL_BYTES, this.pool, this.budget);
    return true;
  }

  private finishBody(out: DecodedFrame[]): void {
    const { body, lease } = (this.body as GrowingBody).take();
    out.push({ kind: 'frame', body, lease });
    this.body = null;
    this.prefix.reset();
  }
}
