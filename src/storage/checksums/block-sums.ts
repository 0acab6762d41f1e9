import type { BigIntStats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { crc32 } from 'node:zlib';
import type { BufferPool } from '../../wire/buffer-pool.js';
import { DIGEST_BLOCK_BYTES, SumsBuilder } from '../../wire/chunk-digest.js';

// Checksums are CRC32 (zlib's polynomial) per 64 KiB block, kept beside the chunk, never in
// it. Why this choice:
// - `zlib.crc32` is built into Node (>= 20.15): no dependency, no native addon to build;
//   CRC32C would need one.
// - It runs at ~3.5-4.9 GiB/s here (shared/field-notes.md), so verifying a 64 MiB chunk
//   from the page cache costs ~20 ms, a tenth of sending it: every retrieve can afford it.
// - Per-block sums, as GFS (32 KiB) and HDFS (512 B chunks in 64 KiB packets) keep them,
//   let an append reuse the sums of the blocks it does not touch and let a streamed reply
//   check each block as it goes out. 64 KiB keeps the sums at 4 bytes per 64 KiB (4 KiB per
//   64 MiB chunk) while a mismatch still pins the damage down to one block.
// CRC32 detects every burst error up to 32 bits and all but 2^-32 of random damage, which
// is what bit rot and torn sectors look like; it is not a defence against a forger, nor
// meant to be.
// Defined with the digest readers check (wire/chunk-digest.ts), which is computed over these sums.
export const BLOCK_BYTES = DIGEST_BLOCK_BYTES;

// Reads for verification go through reused blocks of this size (a multiple of BLOCK_BYTES).
export const READ_BYTES = 1024 * 1024;

// Large buffers are summed in slices of this size with a turn of the event loop between
// them, so one 64 MiB store does not stall every other connection for ~15 ms.
const SLICE_BYTES = 4 * 1024 * 1024;

/**
 * Which file a set of sums was computed from. Every version of a chunk is a new file
 * renamed into place, so inode number and birth time name a version; unlike size or
 * mtime, neither changes when the bytes are altered in place, so damage to the file is
 * seen as damage, not as a different version. A file system without birth times reports 0,
 * leaving the inode alone, whose reuse can only make sums look wrong, never right.
 */
export interface FileIdentity {
  readonly ino: bigint;
  readonly btimeNs: bigint;
}

export function identityOf(st: BigIntStats): FileIdentity {
  return { ino: st.ino, btimeNs: st.birthtimeNs };
}

export function sameIdentity(a: FileIdentity, b: FileIdentity): boolean {
  return a.ino === b.ino && a.btimeNs === b.btimeNs;
}

export interface ChunkSums {
  /** Bytes the sums cover: the size the file must have. */
  readonly size: number;
  /** CRC32 of each block, the last one possibly short. */
  readonly crcs: Uint32Array;
  readonly identity: FileIdentity;
}

export function blockCount(size: number): number {
  return Math.ceil(size / BLOCK_BYTES);
}

export { SumsBuilder } from '../../wire/chunk-digest.js';

/** Sums of a whole buffer, yielding to the event loop between large slices. */
export async function sumsOfBuffer(data: Buffer): Promise<Uint32Array> {
  const builder = new SumsBuilder();
  for (let pos = 0; pos < data.length; pos += SLICE_BYTES) {
    if (pos > 0) await yieldToLoop();
    builder.update(data.subarray(pos, pos + SLICE_BYTES));
  }
  return builder.finish();
}

/** Called after each block read with its length; may delay the next read (scrub rate). */
export type Pace = (bytes: number) => Promise<void>;

/** Reads `size` bytes of `handle` from the start through one pooled block, handing each read to `use`. */
async function readThrough(
  handle: FileHandle,
  size: number,
  pool: BufferPool,
  use: (block: Buffer, offset: number) => boolean,
  pace?: Pace,
): Promise<void> {
  const lease = pool.acquire(READ_BYTES);
  try {
    for (let offset = 0; offset < size; ) {
      const want = Math.min(READ_BYTES, size - offset);
      const { bytesRead } = await handle.read(lease.buf, 0, want, offset);
      if (bytesRead === 0) throw new Error(`file ended at ${offset} of ${size} bytes`);
      if (!use(lease.buf.subarray(0, bytesRead), offset)) return;
      offset += bytesRead;
      await pace?.(bytesRead);
    }
  } finally {
    lease.release();
  }
}

/** Sums of what `handle` holds now (its first `size` bytes). */
export async function sumsOfFile(handle: FileHandle, size: number, pool: BufferPool): Promise<Uint32Array> {
  const builder = new SumsBuilder();
  await readThrough(handle, size, pool, (block) => {
    builder.update(block);
    return true;
  });
  return builder.finish();
}

/** Why a file does not match its sums. */
export type Mismatch = { kind: 'size'; expected: number; actual: number } | { kind: 'block'; block: number; offset: number };

export function describeMismatch(m: Mismatch): string {
  return m.kind === 'size' ? `size ${m.actual}, checksums cover ${m.expected}` : `block ${m.block} (offset ${m.offset}) does not match its checksum`;
}

/**
 * Checks blocks of a file against its sums as they are read or sent. Blocks must come in
 * order, each read starting on a block boundary (READ_BYTES is a multiple of BLOCK_BYTES).
 */
export class BlockChecker {
  constructor(private readonly crcs: Uint32Array) {}

  /** Null when the bytes at `offset` match; else where they do not. */
  check(bytes: Buffer, offset: number): Mismatch | null {
    for (let pos = 0; pos < bytes.length; pos += BLOCK_BYTES) {
      const block = (offset + pos) / BLOCK_BYTES;
      if (crc32(bytes.subarray(pos, pos + BLOCK_BYTES)) !== this.crcs[block]) return { kind: 'block', block, offset: offset + pos };
    }
    return null;
  }
}

/** Reads the whole file and compares it with `sums`; null when every byte matches. */
export async function verifyFile(handle: FileHandle, size: number, sums: ChunkSums, pool: BufferPool, pace?: Pace): Promise<Mismatch | null> {
  if (size !== sums.size) return { kind: 'size', expected: sums.size, actual: size };
  const checker = new BlockChecker(sums.crcs);
  let found: Mismatch | null = null;
  await readThrough(
    handle,
    size,
    pool,
    (block, offset) => {
      found = checker.check(block, offset);
      return found === null;
    },
    pace,
  );
  return found;
}

/**
 * Old blocks that a write of `length` bytes at `offset` changes only in part: their
 * surviving bytes go into the new sums, so they must be read and checked against the old
 * sums first, or damage in them would be blessed with a fresh checksum.
 */
export function boundaryBlocks(oldSize: number, offset: number, length: number): number[] {
  if (length === 0) return [];
  const oldBlocks = blockCount(oldSize);
  const first = Math.floor(offset / BLOCK_BYTES);
  const last = Math.floor((offset + length - 1) / BLOCK_BYTES);
  const out: number[] = [];
  if (first < oldBlocks && offset > first * BLOCK_BYTES) out.push(first);
  if (last < oldBlocks && offset + length < Math.min((last + 1) * BLOCK_BYTES, oldSize) && last !== out[0]) out.push(last);
  return out;
}

/**
 * Sums of the old bytes with `data` appended at their end, without reading anything back
 * (issue 22 item 3): CRC-32 extends, crc(a ‖ b) = crc32(b, crc(a)), so the tail block's sum
 * goes on from its recorded value. The sum stays that of the bytes the chunk was given:
 * damage in the tail block's old bytes is not blessed, it stays a mismatch for the next
 * retrieve or scrub to find (they check the tail block as every other).
 */
export function appendSums(old: Uint32Array, oldSize: number, data: Buffer): Uint32Array {
  const out = new Uint32Array(blockCount(oldSize + data.length));
  out.set(old.subarray(0, Math.min(old.length, out.length)));
  let block = Math.floor(oldSize / BLOCK_BYTES);
  let pos = 0;
  const inTail = oldSize - block * BLOCK_BYTES;
  if (inTail > 0 && data.length > 0) {
    pos = Math.min(BLOCK_BYTES - inTail, data.length);
    out[block] = crc32(data.subarray(0, pos), old[block]);
    block++;
  }
  for (; pos < data.length; pos += BLOCK_BYTES, block++) out[block] = crc32(data.subarray(pos, pos + BLOCK_BYTES));
  return out;
}

/**
 * Sums of the old bytes with `data` written at `offset` (at most the old size), without
 * reading what did not change: untouched blocks keep their old sums (so damage in them
 * stays detectable), touched ones are summed from `data` and the surviving bytes of the
 * boundary blocks, which the caller has read and checked (`boundary`, keyed by index).
 */
export function spliceSums(old: Uint32Array, oldSize: number, offset: number, data: Buffer, boundary: ReadonlyMap<number, Buffer>): Uint32Array {
  const newSize = Math.max(oldSize, offset + data.length);
  const out = new Uint32Array(blockCount(newSize));
  out.set(old.subarray(0, Math.min(old.length, out.length)));
  if (data.length === 0) return out;
  const end = offset + data.length;
  const first = Math.floor(offset / BLOCK_BYTES);
  const last = Math.floor((end - 1) / BLOCK_BYTES);
  for (let block = first; block <= last; block++) {
    const start = block * BLOCK_BYTES;
    const stop = Math.min(start + BLOCK_BYTES, newSize);
    const oldBytes = boundary.get(block);
    let crc = 0;
    if (start < offset) crc = crc32(oldBytes!.subarray(0, offset - start), crc);
    crc = crc32(data.subarray(Math.max(start, offset) - offset, Math.min(stop, end) - offset), crc);
    if (end < stop) crc = crc32(oldBytes!.subarray(end - start, stop - start), crc);
    out[block] = crc;
  }
  return out;
}
