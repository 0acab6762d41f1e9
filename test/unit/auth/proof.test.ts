// The proof on its own: what a signer writes, a receiver hashing the bytes as they arrive in
// any split verifies; one changed byte anywhere, or another key, does not verify.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { FrameHasher } from '../../../src/auth/frame-hasher.js';
import { macMatches, splitProof } from '../../../src/auth/proof.js';
import { signedFrame } from '../../../src/auth/signer.js';
import { AUTH_FAILURES } from '../../../src/errors.js';
import { decodeBody } from '../../../src/wire/codec.js';
import type { FileBody, Piece } from '../../../src/wire/payload.js';
import { ROOT } from '../../support/paths.js';

const KEY = Buffer.from('k'.repeat(64));

/** A file piece served from memory in blocks, as a chunk file would be. */
function fileBody(bytes: Buffer, block = 7000): FileBody {
  return {
    kind: 'file',
    size: bytes.length,
    async pipe(sink) {
      for (let at = 0; at < bytes.length; at += block) await sink(bytes.subarray(at, at + block));
    },
    async close() {},
  };
}

async function written(pieces: Piece[]): Promise<Buffer> {
  const out: Buffer[] = [];
  for (const p of pieces) {
    if (Buffer.isBuffer(p)) out.push(p);
    else await p.pipe(async (b) => void out.push(Buffer.from(b)));
  }
  return Buffer.concat(out);
}

/** Feeds `bytes` to a hasher in random-sized reads; the digests of the frames in it. */
function received(bytes: Buffer) {
  const h = new FrameHasher(1 << 30);
  const out = [];
  for (let at = 0; at < bytes.length; ) {
    const n = 1 + Math.floor(Math.random() * 5000);
    out.push(...h.push(bytes.subarray(at, at + n)));
    at += n;
  }
  return out;
}

function verifies(bytes: Buffer, key = KEY): boolean {
  const [d] = received(bytes);
  if (!d?.proof) return false;
  let fields: Record<string, unknown>;
  try {
    fields = decodeBody(bytes.subarray(4)) as Record<string, unknown>;
  } catch {
    return false;
  }
  return typeof fields.auth_id === 'string' && macMatches(key, fields.auth_id as string, splitProof(d.proof), d.digest);
}

t.test('signed frames verify, in memory and streamed from a file, auth_id first and auth last', async (t) => {
  const data = randomBytes(200_000);
  for (const [what, value] of [['small', Buffer.from('hi')], ['buffer', data], ['large buffer', randomBytes(2_500_000)], ['file', fileBody(data)]] as const) {
    const bytes = await written(signedFrame({ command: 'store_chunk', chunk_id: 'c', data: value, auth: 'stale' }, { id: 'alice', key: KEY }));
    t.ok(verifies(bytes), `${what}: verifies`);
    const fields = decodeBody(bytes.subarray(4)) as Record<string, unknown>;
    t.same(Object.keys(fields), ['auth_id', 'command', 'chunk_id', 'data', 'auth'], `${what}: auth_id comes first, auth last`);
    t.notOk(verifies(bytes, Buffer.from('x'.repeat(64))), `${what}: another key does not verify`);
    for (const at of [4, 10, bytes.length - 60, bytes.length - 1]) {
      const altered = Buffer.from(bytes);
      altered[at] = altered[at]! ^ 1;
      t.notOk(verifies(altered), `${what}: byte ${at} changed does not verify`);
    }
  }
});

t.test('frames back to back pair up with their digests; unsigned ones have no proof', async (t) => {
  const a = await written(signedFrame({ command: 'check_space', size: 1 }, { id: 'a', key: KEY }));
  const plain = Buffer.from([0, 0, 0, 1, 0x80]);
  const digests = received(Buffer.concat([a, plain, a]));
  t.equal(digests.length, 3);
  t.ok(digests[0]!.proof && digests[2]!.proof);
  t.equal(digests[1]!.proof, null);
});

t.test('every auth_failed reason is in the spec', async (t) => {
  const spec = readFileSync(join(ROOT, 'protocol', 'PROTOCOL.md'), 'utf8');
  for (const reason of AUTH_FAILURES) t.ok(spec.includes(`\`auth_failed: ${reason}\``), reason);
});
