import type { BufferPool, Lease } from './buffer-pool.js';

/** The length prefix: 4 bytes, unsigned big-endian, counting the body only (not itself). */
export const LEN_PREFIX_BYTES = 4;

export type DecodedFrame =
  /** `lease` is set when the body was assembled in a pooled slab; release it once done with the body. */
  | { kind: 'frame'; body: Buffer; lease: Lease | null }
  /** The declared length is over the limit: the stream can no longer be trusted. */
  | { kind: 'oversize'; length: number };

// Bodies that arrive split across socket reads are assembled once their length is known;
// those below this size are copied into a plain Buffer rather than a pooled slab.
const POOLED_BODY_MIN_BYTES = 64 * 1024;

/**
 * Turns socket reads into whole frame bodies. Cursor based: a body that lies wholly inside
 * one read is returned as a view of it; a split body is copied once into a buffer sized
 * from its prefix, never re-concatenated per read.
 */
export class FrameDecoder {
  private readonly prefix = Buffer.alloc(LEN_PREFIX_BYTES);
  private prefixFilled = 0;
  private body: Buffer | null = null;
  private lease: Lease | null = null;
  private bodyFilled = 0;
  private failed = false;

  constructor(
    private readonly maxFrameBytes: number,
    private readonly pool: BufferPool,
  ) {}

  /** Bytes of the frame currently being assembled (for buffer budgets and trickle timeouts). */
  get pendingBytes(): number {
    return this.prefixFilled + this.bodyFilled;
  }

  /** True while a frame has started but not finished. */
  get inFrame(): boolean {
    return this.prefixFilled > 0;
  }

  push(chunk: Buffer, out: DecodedFrame[]): void {
    let pos = 0;
    while (pos < chunk.length && !this.failed) {
      if (this.body === null) {
        if (this.prefixFilled === 0 && chunk.length - pos >= LEN_PREFIX_BYTES) {
          const length = chunk.readUInt32BE(pos);
          if (this.oversize(length, out)) return;
          pos += LEN_PREFIX_BYTES;
          if (chunk.length - pos >= length) {
            out.push({ kind: 'frame', body: chunk.subarray(pos, pos + length), lease: null });
            pos += length;
            continue;
          }
          this.prefixFilled = LEN_PREFIX_BYTES;
          this.startBody(length);
          continue;
        }
        const take = Math.min(LEN_PREFIX_BYTES - this.prefixFilled, chunk.length - pos);
        chunk.copy(this.prefix, this.prefixFilled, pos, pos + take);
        this.prefixFilled += take;
        pos += take;
        if (this.prefixFilled < LEN_PREFIX_BYTES) return;
        const length = this.prefix.readUInt32BE(0);
        if (this.oversize(length, out)) return;
        this.startBody(length);
        if (length === 0) this.finishBody(out);
        continue;
      }
      const take = Math.min(this.body.length - this.bodyFilled, chunk.length - pos);
      chunk.copy(this.body, this.bodyFilled, pos, pos + take);
      this.bodyFilled += take;
      pos += take;
      if (this.bodyFilled === this.body.length) this.finishBody(out);
    }
  }

  /** Returns a half-assembled body's slab to the pool (connection closed mid-frame). */
  dispose(): void {
    this.lease?.release();
    this.lease = null;
    this.body = null;
  }

  private oversize(length: number, out: DecodedFrame[]): boolean {
    if (length <= this.maxFrameBytes) return false;
    this.failed = true;
    out.push({ kind: 'oversize', length });
    return true;
  }

  private startBody(length: number): void {
    if (length >= POOLED_BODY_MIN_BYTES) {
      this.lease = this.pool.acquire(length);
      this.body = this.lease.buf;
    } else {
      this.body = Buffer.allocUnsafe(length);
    }
    this.bodyFilled = 0;
  }

  private finishBody(out: DecodedFrame[]): void {
    out.push({ kind: 'frame', body: this.body as Buffer, lease: this.lease });
    this.body = null;
    this.lease = null;
    this.prefixFilled = 0;
    this.bodyFilled = 0;
  }
}
