import { open } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { BLOCK_BYTES, blockCount, type ChunkSums } from './block-sums.js';

// The sums file, all integers big-endian:
//   0  4  magic "CSUM"
//   4  4  format (1)
//   8  4  block size in bytes
//  12  8  size of the data in bytes
//  20  8  inode of the data file          } FileIdentity
//  28  8  birth time of the data file, ns }
//  36  4n CRC32 of each of the n = ceil(size / block size) blocks
//  36+4n 4 CRC32 of all bytes before it, so damage to the sums file itself is seen.
const MAGIC = 0x4353554d;
const FORMAT = 1;
const HEADER_BYTES = 36;

function encodeSums(sums: ChunkSums): Buffer {
  const buf = Buffer.alloc(HEADER_BYTES + 4 * sums.crcs.length + 4);
  buf.writeUInt32BE(MAGIC, 0);
  buf.writeUInt32BE(FORMAT, 4);
  buf.writeUInt32BE(BLOCK_BYTES, 8);
  buf.writeBigUInt64BE(BigInt(sums.size), 12);
  buf.writeBigUInt64BE(BigInt.asUintN(64, sums.identity.ino), 20);
  buf.writeBigInt64BE(BigInt.asIntN(64, sums.identity.btimeNs), 28);
  sums.crcs.forEach((crc, i) => buf.writeUInt32BE(crc, HEADER_BYTES + 4 * i));
  buf.writeUInt32BE(crc32(buf.subarray(0, buf.length - 4)), buf.length - 4);
  return buf;
}

/**
 * `damaged`: not a whole sums file (its own checksum fails); `stale`: a whole file of
 * another format or block size, to be recomputed like missing sums.
 */
export type DecodedSums = { kind: 'ok'; sums: ChunkSums } | { kind: 'damaged' } | { kind: 'stale' };

export function decodeSums(buf: Buffer): DecodedSums {
  if (buf.length < HEADER_BYTES + 4 || crc32(buf.subarray(0, buf.length - 4)) !== buf.readUInt32BE(buf.length - 4)) return { kind: 'damaged' };
  if (buf.readUInt32BE(0) !== MAGIC) return { kind: 'damaged' };
  if (buf.readUInt32BE(4) !== FORMAT || buf.readUInt32BE(8) !== BLOCK_BYTES) return { kind: 'stale' };
  const size = Number(buf.readBigUInt64BE(12));
  const n = blockCount(size);
  if (buf.length !== HEADER_BYTES + 4 * n + 4) return { kind: 'damaged' };
  const crcs = new Uint32Array(n);
  for (let i = 0; i < n; i++) crcs[i] = buf.readUInt32BE(HEADER_BYTES + 4 * i);
  const ino = buf.readBigUInt64BE(20);
  const btimeNs = buf.readBigInt64BE(28);
  return { kind: 'ok', sums: { size, crcs, identity: { ino, btimeNs } } };
}

/** Creates `path` holding `sums`, fsynced. */
export async function writeSumsFile(path: string, sums: ChunkSums): Promise<void> {
  const fh = await open(path, 'wx', 0o644);
  try {
    await fh.writeFile(encodeSums(sums));
    await fh.sync();
  } finally {
    await fh.close();
  }
}
