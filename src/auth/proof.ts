import { createHmac, timingSafeEqual } from 'node:crypto';

// The proof a signed message carries (protocol/PROTOCOL.md, "Authentication"):
//   auth_id: str          who signs: "member:<address>" or a client id
//   auth:    bin(56)      ts (uint64 BE, ms since the epoch) | nonce (16 bytes) | mac (32 bytes)
// `auth` is the map's last entry, so its encoding is always the last TRAILER_BYTES bytes of
// the body: a receiver hashes everything before them as it arrives and needs no second pass,
// and a sender hashes what it writes and appends the trailer at the end.
//   mac = HMAC-SHA256(key, DOMAIN | 0x00 | auth_id | 0x00 | ts | nonce | SHA-256(body before the trailer))

export const PROOF_BYTES = 56;
const TS_BYTES = 8;
export const NONCE_BYTES = 16;
export const MAC_BYTES = 32;
/** fixstr "auth", then the bin8 header of a 56-byte value. */
export const TRAILER_HEAD = Buffer.from([0xa4, 0x61, 0x75, 0x74, 0x68, 0xc4, PROOF_BYTES]);
export const TRAILER_BYTES = TRAILER_HEAD.length + PROOF_BYTES;
const DOMAIN = Buffer.from('chunkserver-auth-v1\0');

/** Member proofs name their sender as MEMBER_PREFIX + its advertised address (or "master"). */
export const MEMBER_PREFIX = 'member:';

export interface Proof {
  readonly tsMs: number;
  readonly nonce: Buffer;
  readonly mac: Buffer;
}

export function splitProof(bytes: Buffer): Proof {
  return {
    tsMs: Number(bytes.readBigUInt64BE(0)),
    nonce: bytes.subarray(TS_BYTES, TS_BYTES + NONCE_BYTES),
    mac: bytes.subarray(TS_BYTES + NONCE_BYTES, PROOF_BYTES),
  };
}

export function joinProof(tsMs: number, nonce: Buffer, mac: Buffer): Buffer {
  const out = Buffer.allocUnsafe(PROOF_BYTES);
  out.writeBigUInt64BE(BigInt(tsMs), 0);
  nonce.copy(out, TS_BYTES);
  mac.copy(out, TS_BYTES + NONCE_BYTES);
  return out;
}


export function computeMac(key: Buffer, authId: string, tsMs: number, nonce: Buffer, digest: Buffer): Buffer {
  const ts = Buffer.allocUnsafe(TS_BYTES);
  ts.writeBigUInt64BE(BigInt(tsMs), 0);
  return createHmac('sha256', key).update(DOMAIN).update(authId).update('\0').update(ts).update(nonce).update(digest).digest();
}

export function macMatches(key: Buffer, authId: string, proof: Proof, digest: Buffer): boolean {
  return timingSafeEqual(computeMac(key, authId, proof.tsMs, proof.nonce, digest), proof.mac);
}
