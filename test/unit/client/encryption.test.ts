// The sealed format of client-side encryption (src/client/encryption.ts) on real files: round
// trips at segment edges, records one after another (appends), and every way a sealed file
// can be wrong fails with its own code.
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import t from 'tap';
import { HEADER_BYTES, SEGMENT_BYTES, loadKeyFile, openSealedFile, passphraseKey, sealedSize, sealingStream, type EncryptionKey } from '../../../src/client/encryption.js';
import { GfsError } from '../../../src/client/errors.js';
import { tempDir } from '../../support/temp.js';

const KEY: EncryptionKey = { kind: 'key', key: randomBytes(32) };

async function seal(plain: Buffer, key = KEY): Promise<Buffer> {
  return buffer(Readable.from([plain]).pipe(await sealingStream(key)));
}

async function open(dir: string, sealed: Buffer, key = KEY): Promise<Buffer> {
  const path = join(dir, `s-${randomBytes(4).toString('hex')}`);
  await writeFile(path, sealed);
  const out: Buffer[] = [];
  await openSealedFile(path, key, '/f', async (b) => void out.push(b));
  return Buffer.concat(out);
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'none';
  } catch (err) {
    return err instanceof GfsError ? err.code : String(err);
  }
}

t.test('round trips at segment edges; the sealed size is as documented', async (t) => {
  const dir = await tempDir(t);
  for (const n of [0, 1, SEGMENT_BYTES - 1, SEGMENT_BYTES, SEGMENT_BYTES + 1, 2 * SEGMENT_BYTES + 5]) {
    const plain = randomBytes(n);
    const sealed = await seal(plain);
    t.equal(sealed.length, sealedSize(n), `${n} bytes seal to sealedSize`);
    t.notOk(n >= 16 && sealed.includes(plain.subarray(0, 16)), 'no plaintext in the sealed bytes');
    t.ok((await open(dir, sealed)).equals(plain), `${n} bytes come back`);
  }
  const a = randomBytes(1000);
  const b = randomBytes(SEGMENT_BYTES + 3);
  t.ok((await open(dir, Buffer.concat([await seal(a), await seal(b)]))).equals(Buffer.concat([a, b])), 'records one after another: appends');
  const pass = passphraseKey('correct horse');
  t.ok((await open(dir, await seal(a, pass), passphraseKey('correct horse'))).equals(a), 'a passphrase through scrypt');
});

t.test('wrong key, tampering, truncation, reordering and plain files each fail', async (t) => {
  const dir = await tempDir(t);
  const plain = randomBytes(2 * SEGMENT_BYTES + 100);
  const sealed = await seal(plain);
  t.equal(await code(open(dir, sealed, { kind: 'key', key: randomBytes(32) })), 'wrong_key');
  t.equal(await code(open(dir, sealed, passphraseKey('x'))), 'wrong_key', 'a passphrase for a key-file file');
  t.equal(await code(open(dir, await seal(plain, passphraseKey('a')), passphraseKey('b'))), 'wrong_key');
  for (const at of [HEADER_BYTES - 10, HEADER_BYTES + 2, HEADER_BYTES + 10, sealed.length - 1]) {
    const bad = Buffer.from(sealed);
    bad[at]! ^= 1;
    t.equal(await code(open(dir, bad)), 'decrypt_failed', `a bit flipped at ${at}`);
  }
  t.equal(await code(open(dir, sealed.subarray(0, sealed.length - 200))), 'decrypt_failed', 'cut inside a segment');
  const seg = 4 + SEGMENT_BYTES + 16;
  t.equal(await code(open(dir, sealed.subarray(0, HEADER_BYTES + seg))), 'decrypt_failed', 'cut at a segment edge: the final flag is missing');
  const swapped = Buffer.concat([sealed.subarray(0, HEADER_BYTES), sealed.subarray(HEADER_BYTES + seg, HEADER_BYTES + 2 * seg), sealed.subarray(HEADER_BYTES, HEADER_BYTES + seg), sealed.subarray(HEADER_BYTES + 2 * seg)]);
  t.equal(await code(open(dir, swapped)), 'decrypt_failed', 'segments swapped');
  t.equal(await code(open(dir, Buffer.concat([sealed, Buffer.from('plain tail')]))), 'decrypt_failed', 'a plaintext append after a record');
  t.equal(await code(open(dir, Buffer.from('just text'))), 'not_encrypted');
  t.equal(await code(open(dir, Buffer.alloc(0))), 'not_encrypted');
});

t.test('key files: 32 raw bytes or 64 hex digits, nothing else', async (t) => {
  const dir = await tempDir(t);
  const key = randomBytes(32);
  await writeFile(join(dir, 'raw'), key);
  await writeFile(join(dir, 'hex'), `${key.toString('hex')}\n`);
  await writeFile(join(dir, 'short'), 'secret\n');
  t.same(loadKeyFile(join(dir, 'raw')), { kind: 'key', key });
  t.same(loadKeyFile(join(dir, 'hex')), { kind: 'key', key });
  t.throws(() => loadKeyFile(join(dir, 'short')), { code: 'bad_input', message: /expected 32 bytes/ });
  t.throws(() => loadKeyFile(join(dir, 'none')), { code: 'bad_input', message: /ENOENT/ });
  t.equal((await readFile(join(dir, 'hex'), 'utf8')).length, 65);
});
