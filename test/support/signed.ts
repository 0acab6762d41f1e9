// Signed frames as a client of ours sends them, as bytes (for tests that write raw frames).
import { createHash, randomBytes } from 'node:crypto';
import { computeMac, joinProof, NONCE_BYTES, PROOF_BYTES, TRAILER_BYTES } from '../../src/auth/proof.js';
import { signedFrame } from '../../src/auth/signer.js';
import { encodeBody } from '../../src/wire/codec.js';
import { lengthPrefixed } from './frames.js';

/** One signed frame; large payloads come as pieces that hash as they are written. */
export async function signedBytes(obj: Record<string, unknown>, id: string, key: string, nowMs?: number): Promise<Buffer> {
  const out: Buffer[] = [];
  for (const piece of signedFrame(obj, { id, key: Buffer.from(key) }, nowMs)) {
    if (Buffer.isBuffer(piece)) out.push(piece);
    else await piece.pipe(async (block) => void out.push(Buffer.from(block)));
  }
  return Buffer.concat(out);
}

/** A signed frame as senders before auth_id moved first wrote it: auth_id and auth as the last entries. */
export function signedLastBytes(obj: Record<string, unknown>, id: string, key: string): Buffer {
  const body = encodeBody({ ...obj, auth_id: id, auth: Buffer.alloc(PROOF_BYTES) });
  const now = Date.now();
  const nonce = randomBytes(NONCE_BYTES);
  const digest = createHash('sha256').update(body.subarray(0, body.length - TRAILER_BYTES)).digest();
  joinProof(now, nonce, computeMac(Buffer.from(key), id, now, nonce, digest)).copy(body, body.length - PROOF_BYTES);
  return lengthPrefixed(body);
}
