// The digest a chunk server reports for a chunk (PROTOCOL.md, "Chunk reports") and a reader
// checks appended chunks against: sha256 over the committed length and the CRC32 of each
// 64 KiB block, cut to 32 hex digits. One definition for the store that computes it from
// the sums it keeps and the client that computes it from the bytes it received.
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';

/** The block each CRC32 covers; the store's BLOCK_BYTES. */
export const DIGEST_BLOCK_BYTES = 64 * 1024;

/** Digest of (committed length, block sums): equal bytes give equal digests, whatever the history. */
export function digestOf(size: number, crcs: ArrayLike<number>): string {
  const head = Buffer.alloc(8);
  head.writeBigUInt64BE(BigInt(size));
  const body = Buffer.alloc(crcs.length * 4);
  for (let i = 0; i < crcs.length; i++) body.writeUInt32BE(crcs[i]!, i * 4);
  return createHash('sha256').update(head).update(body).digest('hex').slice(0, 32);
}

/** CRC32 per block of bytes fed in order, in pieces of any size (the store keeps these sums). */
export class SumsBuilder {
  private readonly crcs: number[] = [];
  private current = 0;
  private filled = 0;

  update(bytes: Buffer): void {
    let pos = 0;
    while (pos < bytes.length) {
      const take = Math.min(DIGEST_BLOCK_BYTES - this.filled, bytes.length - pos);
      this.current = crc32(bytes.subarray(pos, pos + take), this.current);
      this.filled += take;
      pos += take;
      if (this.filled === DIGEST_BLOCK_BYTES) this.endBlock();
    }
  }

  finish(): Uint32Array {
    if (this.filled > 0) this.endBlock();
    return Uint32Array.from(this.crcs);
  }

  private endBlock(): void {
    this.crcs.push(this.current);
    this.current = 0;
    this.filled = 0;
  }
}

/** The digest computed from the bytes as they arrive, in any pieces. */
export class ChunkDigester {
  private readonly sums = new SumsBuilder();
  private size = 0;

  update(bytes: Buffer): void {
    this.size += bytes.length;
    this.sums.update(bytes);
  }

  /** Once, after the last byte: the length and its digest. */
  result(): { length: number; digest: string } {
    return { length: this.size, digest: digestOf(this.size, this.sums.finish()) };
  }
}
