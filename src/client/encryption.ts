// Client-side encryption (docs/operating.md, "Encrypted files"): the servers and the master
// store and see only what this module seals. A sealed stream is one or more records (one per
// put, one per append); each record has its own random data key, wrapped in its header by the
// key-encryption key (a key file's 32 bytes, or scrypt of a passphrase), and its plaintext
// cut in segments sealed with AES-256-GCM. A segment's nonce is its index (unique under its
// record's key) and its additional data binds the record header, the index and the length
// with the flag of the last segment: nothing can be changed, reordered, dropped or cut off
// without the open failing.
import { createCipheriv, createDecipheriv, createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { open } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';
import { GfsError } from './errors.js';

const MAGIC = Buffer.from('GFSENC', 'latin1');
const FORMAT_VERSION = 1;
const KIND_KEY_FILE = 1;
const KIND_PASSPHRASE = 2;
/** Bytes of a record header (layout in docs/operating.md). */
export const HEADER_BYTES = 100;
/** Plaintext bytes per sealed segment (the last of a record may hold fewer). */
export const SEGMENT_BYTES = 1024 * 1024;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const SALT_BYTES = 16;
const KEY_ID_BYTES = 8;
const LENGTH_BYTES = 4;
const FINAL_FLAG = 0x8000_0000;
// scrypt N = 2^15, r = 8, p = 1 (the cost OWASP lists for scrypt): ~32 MiB and ~0.1 s per record.
const SCRYPT_LOG_N = 15;
const SCRYPT_R = 8;
const SCRYPT_P = 1;
const SCRYPT_MAXMEM_BYTES = 64 * 1024 * 1024;

/** Where the key-encryption key comes from: a key file's 32 bytes, or a passphrase through scrypt. */
export type EncryptionKey = { readonly kind: 'key'; readonly key: Buffer } | { readonly kind: 'passphrase'; readonly passphrase: string };

/**
 * A key file holds 32 bytes: raw, or as 64 hex digits (`openssl rand -hex 32`), surrounding
 * whitespace allowed. Anything else is refused (bad_input), never stretched into a key.
 */
export function loadKeyFile(path: string): EncryptionKey {
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch (err) {
    throw new GfsError('bad_input', `encryption key file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (raw.length === KEY_BYTES) return { kind: 'key', key: raw };
  const text = raw.toString('latin1').trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return { kind: 'key', key: Buffer.from(text, 'hex') };
  throw new GfsError('bad_input', `encryption key file ${path}: expected 32 bytes, raw or as 64 hex digits (make one with: openssl rand -hex 32)`);
}

export function passphraseKey(passphrase: string): EncryptionKey {
  if (passphrase.length === 0) throw new GfsError('bad_input', 'the encryption passphrase is empty');
  return { kind: 'passphrase', passphrase };
}

function keyId(kek: Buffer): Buffer {
  return createHash('sha256').update('gfs encryption key id\0').update(kek).digest().subarray(0, KEY_ID_BYTES);
}

// A passphrase costs one scrypt per record (each has its own salt), never one per segment.
async function keyEncryptionKey(key: EncryptionKey, salt: Buffer, logN: number, r: number, p: number): Promise<Buffer> {
  if (key.kind === 'key') return key.key;
  return new Promise((resolve, reject) =>
    scrypt(key.passphrase, salt, KEY_BYTES, { N: 2 ** logN, r, p, maxmem: SCRYPT_MAXMEM_BYTES }, (err, out) => (err ? reject(new GfsError('bad_input', `scrypt: ${err.message}`)) : resolve(out))),
  );
}

function nonceOf(index: number): Buffer {
  const n = Buffer.alloc(12);
  n.writeBigUInt64BE(BigInt(index), 4);
  return n;
}

function segmentAad(headerHash: Buffer, lengthField: Buffer, index: number): Buffer {
  const i = Buffer.alloc(8);
  i.writeBigUInt64BE(BigInt(index));
  return Buffer.concat([headerHash, lengthField, i]);
}

interface Record {
  readonly header: Buffer;
  readonly dataKey: Buffer;
}

async function newRecord(key: EncryptionKey): Promise<Record> {
  const header = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(header, 0);
  header[6] = FORMAT_VERSION;
  header[7] = key.kind === 'key' ? KIND_KEY_FILE : KIND_PASSPHRASE;
  const salt = randomBytes(SALT_BYTES);
  salt.copy(header, 8);
  header[24] = SCRYPT_LOG_N;
  header[25] = SCRYPT_R;
  header[26] = SCRYPT_P;
  const kek = await keyEncryptionKey(key, salt, SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P);
  keyId(kek).copy(header, 28);
  const wrapNonce = randomBytes(12);
  wrapNonce.copy(header, 36);
  const dataKey = randomBytes(KEY_BYTES);
  const wrap = createCipheriv('aes-256-gcm', kek, wrapNonce);
  wrap.setAAD(header.subarray(0, 48));
  Buffer.concat([wrap.update(dataKey), wrap.final(), wrap.getAuthTag()]).copy(header, 48);
  header.writeUInt32BE(SEGMENT_BYTES, 96);
  return { header, dataKey };
}

function sealSegment(rec: Record, headerHash: Buffer, index: number, plain: Buffer, last: boolean): Buffer {
  const lengthField = Buffer.alloc(LENGTH_BYTES);
  lengthField.writeUInt32BE((plain.length | (last ? FINAL_FLAG : 0)) >>> 0);
  const c = createCipheriv('aes-256-gcm', rec.dataKey, nonceOf(index));
  c.setAAD(segmentAad(headerHash, lengthField, index));
  return Buffer.concat([lengthField, c.update(plain), c.final(), c.getAuthTag()]);
}

/** Bytes a record of `plainBytes` takes sealed. */
export function sealedSize(plainBytes: number): number {
  const segments = Math.max(1, Math.ceil(plainBytes / SEGMENT_BYTES));
  return HEADER_BYTES + plainBytes + segments * (LENGTH_BYTES + TAG_BYTES);
}

/** A stream that seals what is written to it as one record (the data key is made, and wrapped, before it returns). */
export async function sealingStream(key: EncryptionKey): Promise<Transform> {
  const rec = await newRecord(key);
  const headerHash = createHash('sha256').update(rec.header).digest();
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let index = 0;
  let started = false;
  const take = (n: number): Buffer => {
    const all = pending.length === 1 ? pending[0]! : Buffer.concat(pending);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    pending = rest.length > 0 ? [rest] : [];
    pendingBytes = rest.length;
    return out;
  };
  return new Transform({
    transform(piece: Buffer, _enc, done: TransformCallback) {
      if (!started) {
        this.push(rec.header);
        started = true;
      }
      pending.push(piece);
      pendingBytes += piece.length;
      // A full segment is sealed only once a byte beyond it arrived: the last one carries the final flag.
      while (pendingBytes > SEGMENT_BYTES) this.push(sealSegment(rec, headerHash, index++, take(SEGMENT_BYTES), false));
      done();
    },
    flush(done: TransformCallback) {
      if (!started) this.push(rec.header);
      this.push(sealSegment(rec, headerHash, index++, take(pendingBytes), true));
      done();
    },
  });
}

/** A reader of a file from a position, by exact lengths; short at the end of the file. */
async function fileReader(path: string): Promise<{ read(n: number): Promise<Buffer>; close(): Promise<void> }> {
  const fh = await open(path, 'r');
  let pos = 0;
  return {
    async read(n) {
      const buf = Buffer.allocUnsafe(n);
      let got = 0;
      while (got < n) {
        const { bytesRead } = await fh.read(buf, got, n - got, pos);
        if (bytesRead === 0) break;
        got += bytesRead;
        pos += bytesRead;
      }
      return buf.subarray(0, got);
    },
    close: () => fh.close(),
  };
}

const tampered = (remote: string, why: string): GfsError => new GfsError('decrypt_failed', `${remote} cannot be decrypted: ${why} (changed, cut short or not written by gfs --encrypt)`);

async function openHeader(header: Buffer, key: EncryptionKey, remote: string, first: boolean): Promise<Buffer> {
  if (header.length < HEADER_BYTES || !header.subarray(0, 6).equals(MAGIC)) {
    if (first) throw new GfsError('not_encrypted', `${remote} is not an encrypted file (it does not start as gfs --encrypt writes one)`);
    throw tampered(remote, 'a record header is missing or damaged');
  }
  if (header[6] !== FORMAT_VERSION) throw tampered(remote, `format version ${header[6]} is not one this gfs reads`);
  const kind = header[7] === KIND_KEY_FILE ? 'key' : header[7] === KIND_PASSPHRASE ? 'passphrase' : null;
  if (kind === null) throw tampered(remote, 'unknown key kind');
  if (kind !== key.kind) throw new GfsError('wrong_key', `${remote} was encrypted with ${kind === 'key' ? 'a key file' : 'a passphrase'}, not ${key.kind === 'key' ? 'a key file' : 'a passphrase'}`);
  const logN = header[24]!;
  if (logN < 10 || logN > 20 || header[25]! < 1 || header[25]! > 32 || header[26]! < 1 || header[26]! > 16) throw tampered(remote, 'scrypt parameters out of bounds');
  const kek = await keyEncryptionKey(key, header.subarray(8, 24), logN, header[25]!, header[26]!);
  if (!timingSafeEqual(keyId(kek), header.subarray(28, 36))) {
    throw new GfsError('wrong_key', `${remote} was encrypted with another ${kind === 'key' ? 'key' : 'passphrase'} (key id ${header.subarray(28, 36).toString('hex')}, this one is ${keyId(kek).toString('hex')})`);
  }
  try {
    const unwrap = createDecipheriv('aes-256-gcm', kek, header.subarray(36, 48));
    unwrap.setAAD(header.subarray(0, 48));
    unwrap.setAuthTag(header.subarray(48 + KEY_BYTES, 96));
    return Buffer.concat([unwrap.update(header.subarray(48, 48 + KEY_BYTES)), unwrap.final()]);
  } catch {
    throw tampered(remote, 'its wrapped data key does not verify');
  }
}

/**
 * Opens the sealed file `cipherPath` (every record of it) into `write`, segment by segment.
 * Throws not_encrypted, wrong_key or decrypt_failed; the caller discards what was written then.
 * Returns the plaintext bytes.
 */
export async function openSealedFile(cipherPath: string, key: EncryptionKey, remote: string, write: (plain: Buffer) => Promise<void>): Promise<number> {
  const r = await fileReader(cipherPath);
  let total = 0;
  try {
    for (let first = true; ; first = false) {
      const header = await r.read(HEADER_BYTES);
      if (header.length === 0 && !first) return total;
      const dataKey = await openHeader(header, key, remote, first);
      const segmentBytes = header.readUInt32BE(96);
      if (segmentBytes === 0 || segmentBytes > 64 * 1024 * 1024) throw tampered(remote, 'segment size out of bounds');
      const headerHash = createHash('sha256').update(header).digest();
      for (let index = 0; ; index++) {
        const lengthField = await r.read(LENGTH_BYTES);
        if (lengthField.length < LENGTH_BYTES) throw tampered(remote, 'it ends inside a record');
        const word = lengthField.readUInt32BE(0);
        const last = (word & FINAL_FLAG) !== 0;
        const len = (word & ~FINAL_FLAG) >>> 0;
        if (len > segmentBytes || (!last && len !== segmentBytes)) throw tampered(remote, `segment ${index} has a bad length`);
        const body = await r.read(len + TAG_BYTES);
        if (body.length < len + TAG_BYTES) throw tampered(remote, 'it ends inside a segment');
        let plain: Buffer;
        try {
          const d = createDecipheriv('aes-256-gcm', dataKey, nonceOf(index));
          d.setAAD(segmentAad(headerHash, lengthField, index));
          d.setAuthTag(body.subarray(len));
          plain = Buffer.concat([d.update(body.subarray(0, len)), d.final()]);
        } catch {
          throw tampered(remote, `segment ${index} does not verify`);
        }
        await write(plain);
        total += plain.length;
        if (last) break;
      }
    }
  } finally {
    await r.close();
  }
}
