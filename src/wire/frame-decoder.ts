import type { BufferPool, Lease } from './buffer-pool.js';
import { GrowingBody } from './growing-body.js';
import type { MemoryBudget } from './memory-budget.js';
import { RefusedTarget, type SpillProvider, type SpillTarget } from './spill.js';

/** The length prefix: 4 bytes, unsigned big-endian, counting the body only (not itself). */
export const LEN_PREFIX_BYTES = 4;

/** A large bin value of a streamed frame: `key` is its field, `target` holds its bytes. */
export interface Spill {
  readonly key: string;
  readonly target: SpillTarget;
}

export type DecodedFrame =
  /** `lease` is set when the body was assembled in a pooled slab; release it once done with the body. */
  | { kind: 'frame'; body: Buffer; lease: Lease | null }
  /** The declared length is over the limit: the stream can no longer be trusted. */
  | { kind: 'oversize'; length: number }
  /**
   * A large frame walked as it arrived: `skeleton` is the msgpack body with every spilled value
   * replaced by nil; the caller awaits each spill's target and puts the value under its key.
   */
  | { kind: 'streamed'; skeleton: Buffer; spills: Spill[] }
  /** A well-framed large request this decoder will not take (its bytes were dropped): answer `why`. */
  | { kind: 'refused'; why: string }
  /** A large frame whose body is not valid msgpack: like an undecodable body. */
  | { kind: 'malformed'; why: string };

export interface StreamOptions {
  readonly spill: SpillProvider;
  /** Frame bodies at least this long are walked as they arrive instead of being assembled. */
  readonly minFrameBytes: number;
  /** In a walked frame, top-level bin values at least this long are spilled (default 64 KiB). */
  readonly minSpillBytes?: number;
}

// Below this, a bin value costs less in memory than a temp file costs in system calls.
const DEFAULT_MIN_SPILL_BYTES = 64 * 1024;
// What a walked frame may hold in memory besides its spilled values: field names, ids, flags.
export const SKELETON_MAX_BYTES = 1024 * 1024;
const UNDECODABLE = 'undecodable body';

/**
 * Turns socket reads into whole frame bodies. Cursor based: a body that lies wholly inside
 * one read is returned as a view of it; a split body is copied into a buffer that grows with
 * the bytes received (never sized from the prefix alone), never re-concatenated per read.
 * `push` throws a RangeError when memory for a body cannot be had; the caller then closes. With `stream` options, large bodies are
 * walked instead and their big bin values handed to spill targets as the bytes arrive.
 */
export class FrameDecoder {
  private readonly prefix = Buffer.alloc(LEN_PREFIX_BYTES);
  private prefixFilled = 0;
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
    return this.prefixFilled + (this.walker ? this.walker.consumed : (this.body?.received ?? 0));
  }

  /** True while a frame has started but not finished. */
  get inFrame(): boolean {
    return this.prefixFilled > 0;
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
          this.prefixFilled = 0;
        }
        continue;
      }
      if (this.body === null) {
        if (this.prefixFilled === 0 && chunk.length - pos >= LEN_PREFIX_BYTES) {
          const length = chunk.readUInt32BE(pos);
          if (this.oversize(length, out)) return;
          pos += LEN_PREFIX_BYTES;
          this.prefixFilled = LEN_PREFIX_BYTES;
          if (this.startWalk(length)) continue;
          if (chunk.length - pos >= length) {
            out.push({ kind: 'frame', body: chunk.subarray(pos, pos + length), lease: null });
            pos += length;
            this.prefixFilled = 0;
            continue;
          }
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
        if (this.startWalk(length)) continue;
        this.startBody(length);
        if (length === 0) this.finishBody(out);
        continue;
      }
      pos += this.body.append(chunk, pos, chunk.length);
      if (this.body.complete) this.finishBody(out);
    }
  }

  /** Returns a half-assembled body's slab to the pool and drops spilled bytes (connection closed mid-frame). */
  dispose(): void {
    this.body?.dispose();
    this.body = null;
    this.walker?.abandon();
    this.walker = null;
  }

  private oversize(length: number, out: DecodedFrame[]): boolean {
    if (length <= this.maxFrameBytes) return false;
    this.failed = true;
    out.push({ kind: 'oversize', length });
    return true;
  }

  private startWalk(length: number): boolean {
    if (this.stream === null || length < this.stream.minFrameBytes || length === 0) return false;
    this.walker = new BodyWalker(length, this.stream.spill, this.stream.minSpillBytes ?? DEFAULT_MIN_SPILL_BYTES, this.pool, this.budget);
    return true;
  }

  private startBody(length: number): void {
    this.body = new GrowingBody(length, this.pool, this.budget);
  }

  private finishBody(out: DecodedFrame[]): void {
    const { body, lease } = (this.body as GrowingBody).take();
    out.push({ kind: 'frame', body, lease });
    this.body = null;
    this.prefixFilled = 0;
  }
}

// ---- msgpack token shapes (https://github.com/msgpack/msgpack/blob/master/spec.md#formats)

/** Header bytes after the type byte; -1 for 0xc1, which msgpack never uses. */
function extraHeaderBytes(b: number): number {
  if (b <= 0xbf || b >= 0xe0) return 0;
  switch (b) {
    case 0xc1:
      return -1;
    case 0xc4: case 0xcc: case 0xd0: case 0xd9:
      return 1;
    case 0xc5: case 0xcd: case 0xd1: case 0xda: case 0xdc: case 0xde: case 0xc7:
      return 2;
    case 0xc8:
      return 3;
    case 0xc6: case 0xca: case 0xce: case 0xd2: case 0xdb: case 0xdd: case 0xdf:
      return 4;
    case 0xc9:
      return 5;
    case 0xcb: case 0xcf: case 0xd3:
      return 8;
    case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
      return 1;
    default:
      return 0;
  }
}

/** Payload bytes that follow a complete header (str, bin and ext data). */
function rawLength(tok: Buffer): number {
  const b = tok[0]!;
  if (b >= 0xa0 && b <= 0xbf) return b & 0x1f;
  switch (b) {
    case 0xc4: case 0xd9: case 0xc7:
      return tok[1]!;
    case 0xc5: case 0xda: case 0xc8:
      return tok.readUInt16BE(1);
    case 0xc6: case 0xdb: case 0xc9:
      return tok.readUInt32BE(1);
    case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
      return 1 << (b - 0xd4);
    default:
      return 0;
  }
}

/** Objects nested directly under a complete header (array items, map keys and values). */
function childCount(tok: Buffer): number {
  const b = tok[0]!;
  if (b >= 0x80 && b <= 0x8f) return 2 * (b & 0x0f);
  if (b >= 0x90 && b <= 0x9f) return b & 0x0f;
  switch (b) {
    case 0xdc:
      return tok.readUInt16BE(1);
    case 0xdd:
      return tok.readUInt32BE(1);
    case 0xde:
      return 2 * tok.readUInt16BE(1);
    case 0xdf:
      return 2 * tok.readUInt32BE(1);
    default:
      return 0;
  }
}

const isMapHeader = (b: number): boolean => (b >= 0x80 && b <= 0x8f) || b === 0xde || b === 0xdf;
const isStrHeader = (b: number): boolean => (b >= 0xa0 && b <= 0xbf) || b === 0xd9 || b === 0xda || b === 0xdb;
const isBinHeader = (b: number): boolean => b === 0xc4 || b === 0xc5 || b === 0xc6;

/**
 * Walks one frame body as it arrives: a top-level map whose keys are read and whose large bin
 * values go to spill targets; every other byte is copied into the skeleton. Field order does
 * not matter (the reference client sends `data` before `chunk_id`).
 */
class BodyWalker {
  /** Body bytes not yet seen. */
  left: number;
  consumed = 0;
  private skeleton = Buffer.allocUnsafe(256);
  private skelLen = 0;
  private readonly tok = Buffer.alloc(9);
  private tokHave = 0;
  private tokNeed = 0;
  /** str/bin/ext payload bytes of the current object still to come. */
  private raw = 0;
  private rawTarget: SpillTarget | null = null;
  /** Objects still to come in the current top-level key or value. */
  private pending = 0;
  /** Top-level entries whose value is not finished; -1 before the map header. */
  private entries = -1;
  private atKey = false;
  private firstToken = false;
  private keyStart = -1;
  private keyEnd = -1;
  private key: string | null = null;
  private readonly keys = new Set<string>();
  private readonly spills: Spill[] = [];
  private problem: { kind: 'refused' | 'malformed'; why: string } | null = null;
  private assembly: GrowingBody | null = null;

  constructor(
    private readonly length: number,
    private readonly provider: SpillProvider,
    private readonly minSpillBytes: number,
    private readonly pool: BufferPool,
    private readonly budget: MemoryBudget | null,
  ) {
    this.left = length;
  }

  get activeTarget(): SpillTarget | null {
    return this.rawTarget;
  }

  feed(chunk: Buffer, pos: number, end: number): void {
    this.left -= end - pos;
    this.consumed += end - pos;
    while (pos < end && this.problem === null) {
      if (this.assembly !== null) {
        this.assembly.append(chunk, pos, end);
        return;
      }
      if (this.raw > 0) {
        const take = Math.min(this.raw, end - pos);
        if (this.rawTarget) this.rawTarget.write(chunk.subarray(pos, pos + take));
        else this.appendSkeleton(chunk, pos, take);
        this.raw -= take;
        pos += take;
        if (this.raw === 0) this.endObject();
        continue;
      }
      if (this.entries === 0) {
        this.fail('malformed', UNDECODABLE);
        return;
      }
      if (this.tokHave === 0) {
        const extra = extraHeaderBytes(chunk[pos]!);
        if (extra < 0) {
          this.fail('malformed', UNDECODABLE);
          return;
        }
        this.tokNeed = 1 + extra;
      }
      const take = Math.min(this.tokNeed - this.tokHave, end - pos);
      chunk.copy(this.tok, this.tokHave, pos, pos + take);
      this.tokHave += take;
      pos += take;
      if (this.tokHave === this.tokNeed) this.onHeader(end - pos);
    }
  }

  result(): DecodedFrame {
    if (this.problem === null && this.assembly !== null) {
      return { kind: 'frame', ...this.assembly.take() };
    }
    if (this.problem === null && (this.entries !== 0 || this.raw > 0 || this.tokHave > 0)) this.fail('malformed', UNDECODABLE);
    if (this.problem !== null) return { ...this.problem };
    return { kind: 'streamed', skeleton: this.skeleton.subarray(0, this.skelLen), spills: this.spills };
  }

  /** The frame will never complete: give back what it holds. */
  abandon(): void {
    this.assembly?.dispose();
    this.assembly = null;
    this.discardSpills();
  }

  /** A complete token header is in `tok`; `after` body bytes of this read follow it. */
  private onHeader(after: number): void {
    const b = this.tok[0]!;
    const tok = this.tok.subarray(0, this.tokNeed);
    this.tokHave = 0;
    if (this.entries === -1) {
      if (!isMapHeader(b)) {
        // Not a map: assemble it whole, so it fails (or not) exactly as a small body would.
        this.assembly = new GrowingBody(this.length, this.pool, this.budget);
        this.assembly.append(tok, 0, tok.length);
        return;
      }
      this.appendSkeleton(tok, 0, tok.length);
      this.entries = childCount(tok) / 2;
      if (this.entries > 0) this.startItem(true);
      return;
    }
    const isValueStart = !this.atKey && this.firstToken;
    const firstOfKey = this.atKey && this.firstToken;
    this.firstToken = false;
    this.pending -= 1;
    if (isValueStart && isBinHeader(b) && this.key !== null && rawLength(tok) >= this.minSpillBytes) {
      const size = rawLength(tok);
      if (size > this.left + after) return this.fail('malformed', UNDECODABLE);
      let target: SpillTarget;
      try {
        target = this.provider.open(size);
      } catch (err) {
        target = new RefusedTarget(err);
      }
      this.spills.push({ key: this.key, target });
      this.appendSkeleton(NIL, 0, 1);
      this.rawTarget = target;
      this.raw = size;
      return;
    }
    this.appendSkeleton(tok, 0, tok.length);
    this.pending += childCount(tok);
    this.raw = rawLength(tok);
    if (firstOfKey && isStrHeader(b)) {
      this.keyStart = this.skelLen;
      this.keyEnd = this.skelLen + this.raw;
    }
    if (this.raw === 0) this.endObject();
  }

  private startItem(isKey: boolean): void {
    this.atKey = isKey;
    this.firstToken = true;
    this.pending = 1;
    if (isKey) this.keyStart = this.keyEnd = -1;
  }

  private endObject(): void {
    this.rawTarget = null;
    if (this.pending > 0 || this.problem !== null) return;
    if (this.atKey) {
      this.key = this.keyStart >= 0 ? this.skeleton.toString('utf8', this.keyStart, this.keyEnd) : null;
      if (this.key !== null) {
        if (this.keys.has(this.key)) return this.fail('refused', `duplicate field ${this.key}`);
        this.keys.add(this.key);
      }
      this.startItem(false);
      return;
    }
    this.entries -= 1;
    if (this.entries > 0) this.startItem(true);
  }

  private appendSkeleton(src: Buffer, start: number, n: number): void {
    if (this.problem !== null) return;
    const need = this.skelLen + n;
    if (need > SKELETON_MAX_BYTES) return this.fail('refused', `fields besides large bin values exceed ${SKELETON_MAX_BYTES} bytes`);
    if (need > this.skeleton.length) {
      const grown = Buffer.allocUnsafe(Math.min(SKELETON_MAX_BYTES, Math.max(need, this.skeleton.length * 2)));
      this.skeleton.copy(grown, 0, 0, this.skelLen);
      this.skeleton = grown;
    }
    src.copy(this.skeleton, this.skelLen, start, start + n);
    this.skelLen = need;
  }

  private fail(kind: 'refused' | 'malformed', why: string): void {
    if (this.problem !== null) return;
    this.problem = { kind, why };
    this.rawTarget = null;
    this.discardSpills();
  }

  private discardSpills(): void {
    for (const { target } of this.spills.splice(0)) void target.discard();
  }
}

const NIL = Buffer.from([0xc0]);
