// Every charge against the space limit goes through `charge`, and it charges what the disk
// really holds (issue 14 item 6): a file's size rounded up to the file system block, plus a
// fixed per-file overhead. Plain byte counts let 3,000 one-byte chunks hold 12 MiB of blocks
// (and their inodes and records) under a 1 MiB limit. The rule is documented in
// protocol/PROTOCOL.md ("Limits") and docs/operating.md ("Space"); tests compute expected values from
// these same functions.

/** The file system block: the unit in which files take disk space (ext4, xfs, tmpfs). */
export const FS_BLOCK_BYTES = 4096;

/**
 * Charged once per file on top of its blocks: its inode and directory entry, and for a chunk
 * its lmdb record (key, version, identity, a 4-byte sum per 64 KiB: within one page for
 * chunks up to 64 MiB). One block, so the charge is a whole number of blocks.
 */
export const FILE_OVERHEAD_BYTES = FS_BLOCK_BYTES;

/** `size` rounded up to whole file system blocks. */
export function blocks(size: number): number {
  return Math.ceil(Math.max(0, size) / FS_BLOCK_BYTES) * FS_BLOCK_BYTES;
}

/** Bytes charged for one file of `size` bytes (a chunk, a temp or staged file, a prepared data file). */
export function charge(size: number): number {
  return blocks(size) + FILE_OVERHEAD_BYTES;
}

/** Growth of the charge when a file goes from `from` bytes (undefined: no file) to `to`. */
export function chargeDelta(from: number | undefined, to: number): number {
  return charge(to) - (from === undefined ? 0 : charge(from));
}

// A prepared transaction's small files: its JSON sidecar (one block) and, for a whole new
// version, its sums file (a 44-byte header and 4 bytes per 64 KiB block of the chunk).
const SIDECAR_CHARGE = charge(1);
const SUMS_HEADER_BYTES = 48;
const SUM_BLOCK_BYTES = 64 * 1024;

/**
 * What a prepared transaction is charged: format 1 (a whole new version) holds its data
 * file, its sums file and its sidecar; format 2 (an append record) its record file and its
 * sidecar. Each covers what its commit adds to the chunk, so a commit never needs more room.
 */
export function txCharge(format: 1 | 2, size: number): number {
  if (format === 2) return charge(size) + SIDECAR_CHARGE;
  return charge(size) + charge(SUMS_HEADER_BYTES + 4 * Math.ceil(size / SUM_BLOCK_BYTES)) + SIDECAR_CHARGE;
}

/**
 * Bytes each of the two write-ahead log files may hold beyond `wal_max_kb`, for small stores'
 * records only (src/storage/writes/logged-store.ts): 8 stores of 64 KiB, or 2 of 256 KiB,
 * share one flush. Not charged to the limit: part of the disk margin below.
 */
export const STORE_LOG_BYTES = 512 * 1024;

/**
 * What the data directory may hold on disk beyond the limit (`du -B1 -s`), stated in
 * PROTOCOL.md "Limits": the fixed part the limit does not count. Mostly the lmdb
 * environment (`.meta/`: its data file grows by pages and keeps freed pages for reuse, its
 * lock file is 8 KiB), then the directories themselves (`.prepared/`, `.quarantine/`, the
 * blocks of their entries) and the per-record sums of very large chunks; and the small
 * stores' records in the two write-ahead log files.
 */
export const DISK_MARGIN_BYTES = 512 * 1024 + 2 * STORE_LOG_BYTES;

/** The largest chunk whose charge fits in `available` bytes (what check_space says yes to). */
export function largestFitting(available: number): number {
  return Math.max(0, Math.floor((available - FILE_OVERHEAD_BYTES) / FS_BLOCK_BYTES) * FS_BLOCK_BYTES);
}
