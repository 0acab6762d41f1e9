// Test bytes: reproducible payloads, and damage done to files on disk.
import { open } from 'node:fs/promises';

export const MIB = 1024 * 1024;

/** `n` pseudo-random bytes (xorshift), the same for the same seed: a mismatch shows where data went wrong. */
export function bytes(n: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

/** Damages one byte of a file in place, as bit rot or a stray writer would. */
export async function flipByte(path: string, at: number): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, at);
    b[0] ^= 0x5a;
    await fh.write(b, 0, 1, at);
  } finally {
    await fh.close();
  }
}
