// The byte-carrying values of a frame besides plain Buffers: files streamed into a reply, and
// large bin values of an incoming frame "spilled" somewhere (a temp file) while the frame
// arrives instead of being held in memory. Wire code only knows these shapes; what a spill
// target is, and what a request later does with the bytes, belongs to whoever provides the
// targets (the chunk store).

/**
 * A payload streamed from an open file into the reply without being read into memory:
 * the encoder writes its bin header and the connection copies `size` bytes from `fd`.
 */
export interface FileBody {
  readonly kind: 'file';
  readonly size: number;
  /** Streams the bytes into `sink`; rejects (and the connection closes) if the file no longer matches. */
  pipe(sink: (block: Buffer) => Promise<void>): Promise<void>;
  /** Releases the file; called exactly once whether or not pipe ran. */
  close(): Promise<void>;
}

/** One piece of an encoded frame: bytes in memory, or a file streamed in its place. */
export type Piece = Buffer | FileBody;

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
  /**
   * After the last byte: resolves with the stored value (or, from a target that kept the
   * bytes in memory, the bytes), or rejects with the error to answer.
   */
  finish(): Promise<SpilledBin | Buffer>;
  /** Drops everything stored so far (connection closed, frame refused, request done). Idempotent. */
  discard(): Promise<void>;
}

/** What a frame said before one of its large values: its top-level string fields so far. */
export interface FrameHead {
  /** The value of top-level field `key` if it came before and is a string. */
  text(key: string): string | undefined;
}

export interface SpillProvider {
  /**
   * Called at a large bin's header, before its `size` bytes arrive; `head` (from incoming
   * requests) tells who the frame says it is from (auth_id), when it said so first. Throwing
   * refuses the value: its bytes are read and dropped, and the request is answered with
   * that error.
   */
  open(size: number, head?: FrameHead): SpillTarget;
}

/** A bin field of a validated request: in memory for small frames, spilled for large ones. */
export type Payload = Buffer | SpilledBin;

export function isFileBody(v: unknown): v is FileBody {
  return typeof v === 'object' && v !== null && (v as FileBody).kind === 'file' && typeof (v as FileBody).pipe === 'function';
}

export function isSpilledBin(v: unknown): v is SpilledBin {
  return typeof v === 'object' && v !== null && (v as SpilledBin).kind === 'spilled' && typeof (v as SpilledBin).fileBody === 'function';
}

export function payloadSize(p: Payload): number {
  return Buffer.isBuffer(p) ? p.length : p.size;
}
