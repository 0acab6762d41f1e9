import { createHash, randomBytes, type Hash } from 'node:crypto';
import { encodeBody, encodeFrame } from '../wire/codec.js';
import { LEN_PREFIX_BYTES } from '../wire/length-framer.js';
import type { FileBody, Piece } from '../wire/payload.js';
import { computeMac, joinProof, NONCE_BYTES, PROOF_BYTES, TRAILER_BYTES, TRAILER_HEAD } from './proof.js';

const PLACEHOLDER = Buffer.alloc(PROOF_BYTES);
// In-memory payloads at least this large are hashed block by block as they are written, so
// that hashing one block overlaps the sending of the one before.
const STREAMED_HASH_MIN_BYTES = 1024 * 1024;
const HASH_BLOCK_BYTES = 256 * 1024;

/** Who signs outbound messages, and with what. */
export interface Credential {
  /** `member:<address>` for a cluster member, else the client id. */
  readonly id: string;
  readonly key: Buffer;
}

/**
 * Encodes `body` as one frame that carries a proof (src/auth/proof.ts). The body's bytes are
 * hashed as they are written, file pieces included, and the proof is filled in when the last
 * piece goes out: a chunk streamed from disk is read once.
 */
export function signedFrame(body: Record<string, unknown>, cred: Credential, nowMs = Date.now()): Piece[] {
  return signFrame(body, cred, nowMs).pieces;
}

/** signedFrame, and the proof it carries (valid once the last piece was written). */
export function signFrame(body: Record<string, unknown>, cred: Credential, nowMs = Date.now()): { pieces: Piece[]; proof: () => Buffer } {
  // auth_id first: a receiver knows the signer before any large value arrives, so it can
  // stage those bytes against its space (PROTOCOL.md section 7, "Where auth_id goes").
  const fields: Record<string, unknown> = { auth_id: cred.id };
  for (const [k, v] of Object.entries(body)) if (k !== 'auth' && k !== 'auth_id') fields[k] = v;
  // Last, so that its encoding ends the body (the trailer).
  fields.auth = PLACEHOLDER;
  const pieces = encodeFrame(fields);
  const last = pieces[pieces.length - 1];
  if (!Buffer.isBuffer(last) || last.length < TRAILER_BYTES || !last.subarray(last.length - TRAILER_BYTES, last.length - PROOF_BYTES).equals(TRAILER_HEAD)) {
    throw new Error('signed frame does not end in its auth entry');
  }
  const hash = createHash('sha256');
  const seal = (): void => {
    const nonce = randomBytes(NONCE_BYTES);
    const mac = computeMac(cred.key, cred.id, nowMs, nonce, hash.digest());
    joinProof(nowMs, nonce, mac).copy(last, last.length - PROOF_BYTES);
  };
  const bodyOf = (piece: Buffer, i: number): Buffer => {
    const from = i === 0 ? LEN_PREFIX_BYTES : 0;
    return piece.subarray(from, i === pieces.length - 1 ? piece.length - TRAILER_BYTES : piece.length);
  };

  const proof = (): Buffer => last.subarray(last.length - PROOF_BYTES);
  const firstFile = pieces.findIndex((p) => !Buffer.isBuffer(p) || p.length >= STREAMED_HASH_MIN_BYTES);
  if (firstFile < 0) {
    pieces.forEach((p, i) => hash.update(bodyOf(p as Buffer, i)));
    seal();
    return { pieces, proof };
  }
  // In-memory pieces before the first file are hashed now; the rest as they are written.
  const lazy = pieces.map((piece, i): Piece => {
    if (i < firstFile) {
      hash.update(bodyOf(piece as Buffer, i));
      return piece;
    }
    if (!Buffer.isBuffer(piece)) return hashingFile(piece, hash);
    if (piece.length >= STREAMED_HASH_MIN_BYTES && i < pieces.length - 1) return hashingFile(inBlocks(piece), hash);
    return lazyBuffer(piece, (sink) => {
      hash.update(bodyOf(piece, i));
      if (i === pieces.length - 1) seal();
      return sink(piece);
    });
  });
  return { pieces: lazy, proof };
}

function hashingFile(inner: FileBody, hash: Hash): FileBody {
  return {
    kind: 'file',
    size: inner.size,
    pipe: (sink) =>
      inner.pipe((block) => {
        hash.update(block);
        return sink(block);
      }),
    close: () => inner.close(),
  };
}

/** An in-memory payload as a file piece that yields it in blocks. */
function inBlocks(buf: Buffer): FileBody {
  return {
    kind: 'file',
    size: buf.length,
    async pipe(sink) {
      for (let at = 0; at < buf.length; at += HASH_BLOCK_BYTES) await sink(buf.subarray(at, at + HASH_BLOCK_BYTES));
    },
    close: async () => undefined,
  };
}

/** An in-memory piece written through the file path, so that its turn comes after the files before it. */
function lazyBuffer(piece: Buffer, pipe: (sink: (block: Buffer) => Promise<void>) => Promise<void>): FileBody {
  return { kind: 'file', size: piece.length, pipe, close: async () => undefined };
}

/**
 * `reply` with a proof as the member `cred`, bound to the request it answers: its nonce is
 * the request's. The connection encodes the returned map to exactly the bytes signed here
 * (the encoder is deterministic and `auth` stays last). Replies must be plain values.
 */
export function signedReply(reply: Record<string, unknown>, cred: Credential, requestNonce: Buffer, nowMs = Date.now()): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(reply)) if (k !== 'auth' && k !== 'auth_id') fields[k] = v;
  fields.auth_id = cred.id;
  fields.auth = PLACEHOLDER;
  const body = encodeBody(fields);
  const digest = createHash('sha256').update(body.subarray(0, body.length - TRAILER_BYTES)).digest();
  fields.auth = joinProof(nowMs, requestNonce, computeMac(cred.key, cred.id, nowMs, requestNonce, digest));
  return fields;
}
