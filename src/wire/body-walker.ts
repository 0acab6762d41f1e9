import type { BufferPool, Lease } from './buffer-pool.js';
import { GrowingBody } from './growing-body.js';
import type { MemoryBudget } from './memory-budget.js';
import { childCount, extraHeaderBytes, isBinHeader, isMapHeader, isStrHeader, NIL, rawLength } from './msgpack-tokens.js';
import type { FrameHead, SpilledBin, SpillProvider, SpillTarget } from './payload.js';

/** A large bin value of a streamed frame: `key` is its field, `target` holds its bytes. */
export interface Spill {
  readonly key: string;
  readonly target: SpillTarget;
}

export type WalkedFrame =
  /** `lease` is set when the body was assembled in a pooled slab; release it once done with the body. */
  | { kind: 'frame'; body: Buffer; lease: Lease | null }
  /**
   * A large frame walked as it arrived: `skeleton` is the msgpack body with every spilled value
   * replaced by nil; the caller awaits each spill's target and puts the value under its key.
   */
  | { kind: 'streamed'; skeleton: Buffer; spills: Spill[] }
  /** A well-framed large request the walker will not take (its bytes were dropped): answer `why`. */
  | { kind: 'refused'; why: string }
  /** A large frame whose body is not valid msgpack: like an undecodable body. */
  | { kind: 'malformed'; why: string };

// What a walked frame may hold in memory besides its spilled values: field names, ids, flags.
export const SKELETON_MAX_BYTES = 1024 * 1024;
const UNDECODABLE = 'undecodable body';
const NIL_BYTE = Buffer.from([NIL]);

/** A target for a refused value: swallows the bytes, then reports why it refused. */
class RefusedTarget implements SpillTarget {
  readonly backlogBytes = 0;
  constructor(private readonly reason: unknown) {}
  write(): void {}
  drained(): Promise<void> {
    return Promise.resolve();
  }
  finish(): Promise<SpilledBin | Buffer> {
    return Promise.reject(this.reason);
  }
  discard(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Walks one frame body as it arrives: a top-level map whose keys are read and whose large bin
 * values go to spill targets; every other byte is copied into the skeleton. Field order does
 * not matter (the reference client sends `data` before `chunk_id`).
 */
export class BodyWalker {
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
  /** A top-level string value under way: where its bytes sit in the skeleton. */
  private textStart = -1;
  private textEnd = -1;
  private readonly keys = new Set<string>();
  /** Top-level string values seen, as [start, end) in the skeleton (for `head`). */
  private readonly texts = new Map<string, [number, number]>();
  private readonly head: FrameHead = {
    text: (key) => {
      const at = this.texts.get(key);
      return at && this.skeleton.toString('utf8', at[0], at[1]);
    },
  };
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

  result(): WalkedFrame {
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
      this.entries = childCount(tok, 0) / 2;
      if (this.entries > 0) this.startItem(true);
      return;
    }
    const isValueStart = !this.atKey && this.firstToken;
    const firstOfKey = this.atKey && this.firstToken;
    this.firstToken = false;
    this.pending -= 1;
    if (isValueStart && isBinHeader(b) && this.key !== null && rawLength(tok, 0) >= this.minSpillBytes) {
      const size = rawLength(tok, 0);
      if (size > this.left + after) return this.fail('malformed', UNDECODABLE);
      let target: SpillTarget;
      try {
        target = this.provider.open(size, this.head);
      } catch (err) {
        target = new RefusedTarget(err);
      }
      this.spills.push({ key: this.key, target });
      this.appendSkeleton(NIL_BYTE, 0, 1);
      this.rawTarget = target;
      this.raw = size;
      return;
    }
    this.appendSkeleton(tok, 0, tok.length);
    this.pending += childCount(tok, 0);
    this.raw = rawLength(tok, 0);
    if (firstOfKey && isStrHeader(b)) {
      this.keyStart = this.skelLen;
      this.keyEnd = this.skelLen + this.raw;
    }
    if (isValueStart && isStrHeader(b)) {
      this.textStart = this.skelLen;
      this.textEnd = this.skelLen + this.raw;
    }
    if (this.raw === 0) this.endObject();
  }

  private startItem(isKey: boolean): void {
    this.atKey = isKey;
    this.firstToken = true;
    this.pending = 1;
    if (isKey) this.keyStart = this.keyEnd = -1;
    else this.textStart = this.textEnd = -1;
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
    if (this.key !== null && this.textStart >= 0) this.texts.set(this.key, [this.textStart, this.textEnd]);
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
