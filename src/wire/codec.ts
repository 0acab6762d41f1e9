import { Unpackr } from 'msgpackr';
import { LEN_PREFIX_BYTES } from './length-framer.js';
import { isFileBody, isSpilledBin, type FileBody, type Piece } from './payload.js';
import { checkPlain, DEFAULT_VALUE_LIMITS, type ValueLimits } from './plain-msgpack.js';

// Decoding uses msgpackr. Python packs ints >= 2^32 as uint64, which msgpackr turns into
// BigInt unless told otherwise (shared/field-notes.md); maps come back as plain objects.
// Structured clone and records are off, and checkPlain refuses every extension type before
// msgpackr runs, so no extension of msgpackr's is ever reached.
const unpackr = new Unpackr({ int64AsType: 'number', mapsAsObjects: true, useRecords: false, structuredClone: false });

/**
 * Decodes one plain msgpack value that must fill `body` exactly, within `limits` (depth,
 * count of values); throws on anything else, including extension types and the byte 0xc1.
 */
export function decodeBody(body: Buffer, limits: ValueLimits = DEFAULT_VALUE_LIMITS): unknown {
  checkPlain(body, limits);
  return unpackr.unpack(body);
}

/**
 * A number always sent as float64. JavaScript cannot tell 1.0 from 1, so integral numbers
 * are encoded as integers; wrap one in Float64 where the peer expects a float as Python
 * would send it (e.g. coordinates).
 */
export class Float64 {
  constructor(readonly value: number) {}
}

const UINT64_MAX = (1n << 64n) - 1n;
const INT64_MIN = -(1n << 63n);

// Buffers at least this large are written as their own piece, never copied into the frame.
const SEPARATE_PAYLOAD_MIN_BYTES = 16 * 1024;

// Encoding is ours, not msgpackr's: msgpackr packs integers beyond 32 bits as float64,
// which Python decodes as float, and it cannot leave a payload out of the frame buffer.
// This encoder produces what Python's `msgpack.packb(obj, use_bin_type=True)` produces
// for the same value (smallest int form, positive ints unsigned, floats as float64).

function intSize(n: number): number {
  if (n >= 0) return n < 0x80 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n <= 0xffffffff ? 5 : 9;
  return n >= -0x20 ? 1 : n >= -0x80 ? 2 : n >= -0x8000 ? 3 : n >= -0x80000000 ? 5 : 9;
}

/** bigints are exact over the whole msgpack range, as Python ints are (uint64 and int64). */
function bigintSize(n: bigint): number {
  if (n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER)) return intSize(Number(n));
  if (n > UINT64_MAX || n < INT64_MIN) throw new RangeError(`integer out of msgpack range: ${n}`);
  return 9;
}

function lenHeaderSize(len: number, fixMax: number, has8: boolean): number {
  if (len <= fixMax) return 1;
  if (has8 && len < 0x100) return 2;
  return len < 0x10000 ? 3 : 5;
}

/** Bytes the frame body will take, payload pieces included. */
function sizeOf(v: unknown): number {
  if (v === null || v === undefined || typeof v === 'boolean') return 1;
  if (typeof v === 'number') return Number.isSafeInteger(v) ? intSize(v) : 9;
  if (typeof v === 'bigint') return bigintSize(v);
  if (v instanceof Float64) return 9;
  if (typeof v === 'string') {
    const len = Buffer.byteLength(v);
    return lenHeaderSize(len, 31, true) + len;
  }
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return lenHeaderSize(v.length, -1, true) + v.length;
  if (isFileBody(v) || isSpilledBin(v)) return lenHeaderSize(v.size, -1, true) + v.size;
  if (Array.isArray(v)) {
    let total = lenHeaderSize(v.length, 15, false);
    for (const item of v) total += sizeOf(item);
    return total;
  }
  if (v instanceof Set) return sizeOf([...v]);
  if (typeof v === 'object') {
    const entries = Object.entries(v).filter(([, val]) => val !== undefined);
    let total = lenHeaderSize(entries.length, 15, false);
    for (const [key, val] of entries) total += sizeOf(key) + sizeOf(val);
    return total;
  }
  throw new TypeError(`cannot encode ${typeof v}`);
}

class PieceWriter {
  readonly pieces: Piece[] = [];
  private buf: Buffer;
  private pos = 0;

  constructor(private readonly bodyBytes: number) {
    this.buf = Buffer.allocUnsafe(Math.min(bodyBytes + LEN_PREFIX_BYTES, SEPARATE_PAYLOAD_MIN_BYTES * 2));
    this.buf.writeUInt32BE(bodyBytes, 0);
    this.pos = LEN_PREFIX_BYTES;
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.flush();
    this.buf = Buffer.allocUnsafe(Math.max(n, 1024));
  }

  private flush(): void {
    if (this.pos > 0) this.pieces.push(this.buf.subarray(0, this.pos));
    this.pos = 0;
  }

  byte(b: number): void {
    this.room(1);
    this.buf[this.pos++] = b;
  }

  header(len: number, fix: number, fixMax: number, code8: number | null, code16: number, code32: number): void {
    if (len <= fixMax) this.byte(fix | len);
    else if (code8 !== null && len < 0x100) {
      this.byte(code8);
      this.byte(len);
    } else if (len < 0x10000) {
      this.room(3);
      this.buf[this.pos] = code16;
      this.buf.writeUInt16BE(len, this.pos + 1);
      this.pos += 3;
    } else {
      this.room(5);
      this.buf[this.pos] = code32;
      this.buf.writeUInt32BE(len, this.pos + 1);
      this.pos += 5;
    }
  }

  raw(bytes: Uint8Array): void {
    if (bytes.length >= SEPARATE_PAYLOAD_MIN_BYTES) {
      this.flush();
      this.pieces.push(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
      this.buf = Buffer.allocUnsafe(1024);
      return;
    }
    this.room(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  file(body: FileBody): void {
    this.flush();
    this.pieces.push(body);
    this.buf = Buffer.allocUnsafe(1024);
  }

  int(n: number): void {
    this.room(9);
    const b = this.buf;
    const p = this.pos;
    if (n >= 0) {
      if (n < 0x80) b[p] = n;
      else if (n < 0x100) (b[p] = 0xcc), (b[p + 1] = n);
      else if (n < 0x10000) (b[p] = 0xcd), b.writeUInt16BE(n, p + 1);
      else if (n <= 0xffffffff) (b[p] = 0xce), b.writeUInt32BE(n, p + 1);
      else (b[p] = 0xcf), b.writeBigUInt64BE(BigInt(n), p + 1);
    } else {
      if (n >= -0x20) b[p] = n & 0xff;
      else if (n >= -0x80) (b[p] = 0xd0), b.writeInt8(n, p + 1);
      else if (n >= -0x8000) (b[p] = 0xd1), b.writeInt16BE(n, p + 1);
      else if (n >= -0x80000000) (b[p] = 0xd2), b.writeInt32BE(n, p + 1);
      else (b[p] = 0xd3), b.writeBigInt64BE(BigInt(n), p + 1);
    }
    this.pos += intSize(n);
  }

  bigint(n: bigint): void {
    if (bigintSize(n) < 9) return this.int(Number(n));
    this.room(9);
    if (n >= 0n) {
      this.buf[this.pos] = 0xcf;
      this.buf.writeBigUInt64BE(n, this.pos + 1);
    } else {
      this.buf[this.pos] = 0xd3;
      this.buf.writeBigInt64BE(n, this.pos + 1);
    }
    this.pos += 9;
  }

  float(n: number): void {
    this.room(9);
    this.buf[this.pos] = 0xcb;
    this.buf.writeDoubleBE(n, this.pos + 1);
    this.pos += 9;
  }

  finish(): Piece[] {
    this.flush();
    return this.pieces;
  }
}

function write(w: PieceWriter, v: unknown): void {
  if (v === null || v === undefined) w.byte(0xc0);
  else if (v === true) w.byte(0xc3);
  else if (v === false) w.byte(0xc2);
  else if (typeof v === 'number') Number.isSafeInteger(v) ? w.int(v) : w.float(v);
  else if (typeof v === 'bigint') w.bigint(v);
  else if (v instanceof Float64) w.float(v.value);
  else if (typeof v === 'string') {
    const bytes = Buffer.from(v);
    w.header(bytes.length, 0xa0, 31, 0xd9, 0xda, 0xdb);
    w.raw(bytes);
  } else if (v instanceof Uint8Array) {
    w.header(v.length, 0, -1, 0xc4, 0xc5, 0xc6);
    w.raw(v);
  } else if (isFileBody(v)) {
    w.header(v.size, 0, -1, 0xc4, 0xc5, 0xc6);
    w.file(v);
  } else if (isSpilledBin(v)) {
    w.header(v.size, 0, -1, 0xc4, 0xc5, 0xc6);
    w.file(v.fileBody());
  } else if (Array.isArray(v) || v instanceof Set) {
    const items = [...v];
    w.header(items.length, 0x90, 15, null, 0xdc, 0xdd);
    for (const item of items) write(w, item);
  } else {
    const entries = Object.entries(v as object).filter(([, val]) => val !== undefined);
    w.header(entries.length, 0x80, 15, null, 0xde, 0xdf);
    for (const [key, val] of entries) {
      write(w, key);
      write(w, val);
    }
  }
}

/**
 * Encodes `value` as one frame: the 4-byte length prefix and the msgpack body, split into
 * pieces so that large payloads (Buffers, files, spilled values) are written as they are, never copied.
 */
export function encodeFrame(value: unknown): Piece[] {
  const bodyBytes = sizeOf(value);
  const w = new PieceWriter(bodyBytes);
  write(w, value);
  return w.finish();
}

/** Encodes `value` as a msgpack body (no length prefix) in one Buffer; for small values. */
export function encodeBody(value: unknown): Buffer {
  const pieces = encodeFrame(value) as Buffer[];
  return Buffer.concat(pieces).subarray(LEN_PREFIX_BYTES);
}
