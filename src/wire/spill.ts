// Large bin values of an incoming frame can be "spilled": written somewhere (a temp file)
// while the frame arrives instead of being held in memory. The frame decoder only knows these
// interfaces; what a spill target is, and what the request later does with the bytes, belongs
// to whoever provides the targets (the chunk store).
import type { FileBody } from './codec.js';

/** A bin value that was spilled; the request carries it where a Buffer would otherwise be. */
export interface SpilledBin {
  readonly kind: 'spilled';
  readonly size: number;
  /** The bytes as a reply/request piece (encodeFrame accepts the SpilledBin itself too). */
  fileBody(): FileBody;
}

/** Receives one spilled value's bytes, in order, as they arrive. */
export interface SpillTarget {
  /** The buffers are slices of socket reads, which are never reused, so they may be kept. */
  write(piece: Buffer): void;
  /** Bytes handed to write() and not yet stored; the reader pauses while this is high. */
  readonly backlogBytes: number;
  /** Resolves once the backlog is at most `bytes` (or the target failed). */
  drained(bytes: number): Promise<void>;
  /** After the last byte: resolves with the stored value, or rejects with the error to answer. */
  finish(): Promise<SpilledBin>;
  /** Drops everything stored so far (connection closed, frame refused, request done). Idempotent. */
  discard(): Promise<void>;
}

export interface SpillProvider {
  /**
   * Called at a large bin's header, before its `size` bytes arrive. Throwing refuses the
   * value: its bytes are read and dropped, and the request is answered with that error.
   */
  open(size: number): SpillTarget;
}

/** A bin field of a validated request: in memory for small frames, spilled for large ones. */
export type Payload = Buffer | SpilledBin;

export function isSpilledBin(v: unknown): v is SpilledBin {
  return typeof v === 'object' && v !== null && (v as SpilledBin).kind === 'spilled' && typeof (v as SpilledBin).fileBody === 'function';
}

export function payloadSize(p: Payload): number {
  return Buffer.isBuffer(p) ? p.length : p.size;
}

/** A target for a refused value: swallows the bytes, then reports why it refused. */
export class RefusedTarget implements SpillTarget {
  readonly backlogBytes = 0;
  constructor(private readonly reason: unknown) {}
  write(): void {}
  drained(): Promise<void> {
    return Promise.resolve();
  }
  finish(): Promise<SpilledBin> {
    return Promise.reject(this.reason);
  }
  discard(): Promise<void> {
    return Promise.resolve();
  }
}
