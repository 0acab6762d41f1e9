// The benchmark's side of the wire: requests are framed by hand with the payload as its own
// write (no copy), and large replies are counted rather than assembled, so the client spends
// as little of the shared CPU as the loopback baseline's receiver does.
import { connect, type Socket } from 'node:net';
import { Packr, Unpackr } from 'msgpackr';
import type { Piece } from '../src/wire/payload.js';

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ int64AsType: 'number', mapsAsObjects: true, useRecords: false });

/** Replies up to this body size are decoded; larger ones must be `{status:'ok', data: bin}` and are counted. */
const DECODED_REPLY_MAX_BYTES = 16 * 1024;
/** What the server (and the baseline peer) put before a large `data` payload: `{status:'ok', data: ` + bin32. */
export const OK_DATA_HEAD = Buffer.concat([Buffer.from([0x82]), packr.pack('status'), packr.pack('ok'), packr.pack('data')]);
const BIN32_HEAD_BYTES = 5;

export interface BenchReply {
  status: string;
  message?: string;
  /** Length of the `data` field, when there was one. */
  dataBytes: number;
}

function binHeader(length: number): Buffer {
  const h = Buffer.allocUnsafe(BIN32_HEAD_BYTES);
  h[0] = 0xc6;
  h.writeUInt32BE(length, 1);
  return h;
}

/**
 * A request frame as pieces: prefix and fields in one Buffer, then the payload untouched.
 * `data` goes first among the fields, as the reference client sends it.
 */
export function requestFrame(fields: Record<string, unknown>, data?: Buffer): Buffer[] {
  const entries = Object.entries(fields);
  const parts: Buffer[] = [Buffer.from([0x80 | (entries.length + (data ? 1 : 0))])];
  if (data) parts.push(packr.pack('data'), binHeader(data.length));
  const rest = entries.map(([k, v]) => Buffer.concat([packr.pack(k), packr.pack(v)]));
  const head = Buffer.concat(parts);
  const tail = Buffer.concat(rest);
  const prefix = Buffer.allocUnsafe(4);
  prefix.writeUInt32BE(head.length + (data?.length ?? 0) + tail.length);
  if (!data) return [Buffer.concat([prefix, head, tail])];
  return [Buffer.concat([prefix, head]), data, tail];
}

/** A framed reply whose payload is only the `{status:'ok', data}` shape of a retrieve. */
export function okDataReplyHead(length: number): Buffer {
  const prefix = Buffer.allocUnsafe(4);
  prefix.writeUInt32BE(OK_DATA_HEAD.length + BIN32_HEAD_BYTES + length);
  return Buffer.concat([prefix, OK_DATA_HEAD, binHeader(length)]);
}

type Waiter = { resolve: (r: BenchReply) => void; reject: (e: Error) => void };

/** One connection; `request` may be called again before earlier replies arrive (pipelining). */
export class BenchConn {
  private readonly waiters: Waiter[] = [];
  private prefix = Buffer.alloc(4);
  private prefixFilled = 0;
  private bodyLength = -1;
  private bodyFilled = 0;
  private small: Buffer | null = null;
  private readonly head = Buffer.alloc(OK_DATA_HEAD.length + BIN32_HEAD_BYTES);
  private failed: Error | null = null;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('connection closed')));
  }

  static open(port: number): Promise<BenchConn> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, noDelay: true });
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new BenchConn(socket));
      });
      socket.once('error', reject);
    });
  }

  request(pieces: Buffer[]): Promise<BenchReply> {
    if (this.failed) return Promise.reject(this.failed);
    const reply = new Promise<BenchReply>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.socket.cork();
    for (const p of pieces) this.socket.write(p);
    this.socket.uncork();
    return reply;
  }

  /** As request, for pieces that stream (src/wire/codec.ts FileBody): written in order, each block once the last was taken. */
  async requestPieces(pieces: Piece[]): Promise<BenchReply> {
    if (pieces.every((p) => Buffer.isBuffer(p))) return this.request(pieces as Buffer[]);
    if (this.failed) throw this.failed;
    const reply = new Promise<BenchReply>((resolve, reject) => this.waiters.push({ resolve, reject }));
    const write = (b: Buffer): Promise<void> => new Promise((res, rej) => this.socket.write(b, (err) => (err ? rej(err) : res())));
    for (const p of pieces) {
      if (Buffer.isBuffer(p)) await write(p);
      else await p.pipe(write);
    }
    return reply;
  }

  close(): void {
    this.socket.destroy();
  }

  private fail(err: Error): void {
    this.failed ??= err;
    for (const w of this.waiters.splice(0)) w.reject(err);
  }

  private onData(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.bodyLength < 0) {
        const take = Math.min(4 - this.prefixFilled, chunk.length - pos);
        chunk.copy(this.prefix, this.prefixFilled, pos, pos + take);
        this.prefixFilled += take;
        pos += take;
        if (this.prefixFilled < 4) return;
        this.bodyLength = this.prefix.readUInt32BE(0);
        this.bodyFilled = 0;
        this.small = this.bodyLength <= DECODED_REPLY_MAX_BYTES ? Buffer.allocUnsafe(this.bodyLength) : null;
      }
      const take = Math.min(this.bodyLength - this.bodyFilled, chunk.length - pos);
      const target = this.small ?? this.head;
      if (this.bodyFilled < target.length) chunk.copy(target, this.bodyFilled, pos, pos + Math.min(take, target.length - this.bodyFilled));
      this.bodyFilled += take;
      pos += take;
      if (this.bodyFilled === this.bodyLength) this.finish();
    }
  }

  private finish(): void {
    let reply: BenchReply;
    if (this.small) {
      const m = unpackr.unpack(this.small) as { status: string; message?: string; data?: Buffer };
      reply = { status: m.status, message: m.message, dataBytes: m.data?.length ?? 0 };
    } else if (
      // A fixmap whose first entries are status 'ok' and data: fields after data (retrieve's
      // `version`) only change the map's size.
      (this.head[0]! & 0xf0) === 0x80 &&
      this.head.subarray(1, OK_DATA_HEAD.length).equals(OK_DATA_HEAD.subarray(1)) &&
      this.head[OK_DATA_HEAD.length] === 0xc6
    ) {
      reply = { status: 'ok', dataBytes: this.head.readUInt32BE(OK_DATA_HEAD.length + 1) };
    } else {
      reply = { status: 'unparsed', dataBytes: 0 };
    }
    this.prefixFilled = 0;
    this.bodyLength = -1;
    this.small = null;
    this.waiters.shift()?.resolve(reply);
  }
}

export function expectOk(reply: BenchReply, what: string): BenchReply {
  if (reply.status !== 'ok') throw new Error(`${what}: ${reply.status} ${reply.message ?? ''}`);
  return reply;
}

/** One request on its own connection. */
export async function oneShot(port: number, pieces: Buffer[]): Promise<BenchReply> {
  const conn = await BenchConn.open(port);
  try {
    return await conn.request(pieces);
  } finally {
    conn.close();
  }
}

export function storeFrame(id: string, data: Buffer): Buffer[] {
  return requestFrame({ command: 'store_chunk', chunk_id: id, file_path: '/bench/file' }, data);
}

export function retrieveFrame(id: string): Buffer[] {
  return requestFrame({ command: 'retrieve_chunk', chunk_id: id });
}
