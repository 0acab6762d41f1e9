import { createHash, type Hash } from 'node:crypto';
import { LengthPrefix } from '../wire/length-framer.js';
import { PROOF_BYTES, TRAILER_BYTES, TRAILER_HEAD } from './proof.js';

/** What a frame's bytes say about its proof: the digest of the body before the trailer, and the trailer's 56 bytes if it has one. */
export interface FrameDigest {
  readonly digest: Buffer;
  /** null: the body does not end in an `auth` entry (an unsigned message). */
  readonly proof: Buffer | null;
}

/**
 * Follows the length-prefixed framing of one inbound stream on its own and hashes each
 * body as its bytes arrive (the whole body but its last TRAILER_BYTES, which are kept), so
 * that a 64 MiB store is verified without reading it twice. Frames come out in stream order,
 * which is the order the length framer yields them. Bodies over `maxBodyBytes` are not
 * hashed: the framer refuses them and closes the stream.
 */
export class FrameHasher {
  private readonly prefix = new LengthPrefix();
  private bodyLength = 0;
  private bodySeen = 0;
  private hash: Hash | null = null;
  private tail = Buffer.alloc(TRAILER_BYTES);
  private dead = false;

  constructor(private readonly maxBodyBytes: number) {}

  /** Feeds one socket read; returns the digests of the frames that ended in it. */
  push(chunk: Buffer): FrameDigest[] {
    const out: FrameDigest[] = [];
    let pos = 0;
    while (pos < chunk.length && !this.dead) {
      if (this.hash === null) {
        pos += this.prefix.take(chunk, pos);
        if (!this.prefix.complete) break;
        this.bodyLength = this.prefix.length;
        if (this.bodyLength > this.maxBodyBytes) {
          this.dead = true;
          break;
        }
        this.bodySeen = 0;
        this.hash = createHash('sha256');
        if (this.bodyLength === 0) out.push(this.finish());
        continue;
      }
      const take = Math.min(this.bodyLength - this.bodySeen, chunk.length - pos);
      this.feed(chunk, pos, pos + take);
      pos += take;
      if (this.bodySeen === this.bodyLength) out.push(this.finish());
    }
    return out;
  }

  /** Body bytes [from, to) of the chunk: hashed, or kept when they fall in the trailer's place. */
  private feed(chunk: Buffer, from: number, to: number): void {
    const hashedEnd = Math.max(0, this.bodyLength - TRAILER_BYTES);
    const hashUpTo = Math.min(to, from + Math.max(0, hashedEnd - this.bodySeen));
    if (hashUpTo > from) this.hash!.update(chunk.subarray(from, hashUpTo));
    if (to > hashUpTo) chunk.copy(this.tail, this.bodySeen + (hashUpTo - from) - hashedEnd, hashUpTo, to);
    this.bodySeen += to - from;
  }

  private finish(): FrameDigest {
    const digest = this.hash!.digest();
    this.hash = null;
    this.prefix.reset();
    const signed = this.bodyLength >= TRAILER_BYTES && this.tail.subarray(0, TRAILER_HEAD.length).equals(TRAILER_HEAD);
    const proof = signed ? Buffer.from(this.tail.subarray(TRAILER_HEAD.length, TRAILER_HEAD.length + PROOF_BYTES)) : null;
    return { digest, proof };
  }
}
