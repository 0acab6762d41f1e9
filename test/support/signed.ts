// Signed frames as a client of ours sends them, as bytes (for tests that write raw frames).
import { signedFrame } from '../../src/auth/signer.js';

/** One signed frame; large payloads come as pieces that hash as they are written. */
export async function signedBytes(obj: Record<string, unknown>, id: string, key: string, nowMs?: number): Promise<Buffer> {
  const out: Buffer[] = [];
  for (const piece of signedFrame(obj, { id, key: Buffer.from(key) }, nowMs)) {
    if (Buffer.isBuffer(piece)) out.push(piece);
    else await piece.pipe(async (block) => void out.push(Buffer.from(block)));
  }
  return Buffer.concat(out);
}
