// A framing client that speaks the wire protocol independently of the server's own codec:
// a 4-byte big-endian length (of the body only), then a msgpack body.
import { connect, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';
import { Packr, Unpackr } from 'msgpackr';
import type { Teardown } from './temp.js';

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ int64AsType: 'number', mapsAsObjects: true, useRecords: false });

/** Each body behind its length prefix, back to back: for bodies that are not msgpack of our making. */
export function lengthPrefixed(...bodies: Buffer[]): Buffer {
  return Buffer.concat(
    bodies.flatMap((b) => {
      const prefix = Buffer.alloc(4);
      prefix.writeUInt32BE(b.length);
      return [prefix, b];
    }),
  );
}

export function frame(obj: unknown): Buffer {
  return lengthPrefixed(packr.pack(obj));
}

export type Reply = Record<string, any>;

/**
 * A client connection that reads replies frame by frame. `next()` resolves with the next
 * reply, or null when the server closed the connection.
 */
export class Client {
  private chunks: Buffer[] = [];
  private total = 0;
  private waiters: Array<(r: Reply | null) => void> = [];
  private ready: Reply[] = [];
  ended = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (c: Buffer) => {
      this.chunks.push(c);
      this.total += c.length;
      this.parse();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.ended = true;
      for (const w of this.waiters.splice(0)) w(null);
    });
  }

  static async connect(port: number, t?: Teardown): Promise<Client> {
    const socket = connect({ host: '127.0.0.1', port });
    await new Promise<void>((res, rej) => {
      socket.once('connect', res);
      socket.once('error', rej);
    });
    const client = new Client(socket);
    t?.teardown(() => socket.destroy());
    return client;
  }

  /** A TLS connection (`options`: CA, client certificate); resolves once the handshake is done. */
  static async connectTls(port: number, options: ConnectionOptions, t?: Teardown): Promise<Client> {
    const socket = connectTls({ host: '127.0.0.1', port, ...options });
    await new Promise<void>((res, rej) => {
      socket.once('secureConnect', res);
      socket.once('error', rej);
    });
    const client = new Client(socket);
    t?.teardown(() => socket.destroy());
    return client;
  }

  // Copies each reply once, when all of it has arrived (64 MiB replies must not be re-glued per read).
  private parse(): void {
    while (this.total >= 4) {
      if (this.chunks[0]!.length < 4) this.chunks = [Buffer.concat(this.chunks)];
      const len = this.chunks[0]!.readUInt32BE(0);
      if (this.total < 4 + len) return;
      const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
      const reply = unpackr.unpack(all.subarray(4, 4 + len)) as Reply;
      const rest = all.subarray(4 + len);
      this.chunks = rest.length ? [rest] : [];
      this.total = rest.length;
      const w = this.waiters.shift();
      if (w) w(reply);
      else this.ready.push(reply);
    }
  }

  send(obj: unknown): void {
    this.socket.write(frame(obj));
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  next(): Promise<Reply | null> {
    const r = this.ready.shift();
    if (r) return Promise.resolve(r);
    if (this.ended) return Promise.resolve(null);
    return new Promise((res) => this.waiters.push(res));
  }

  async call(obj: unknown): Promise<Reply> {
    this.send(obj);
    const reply = await this.next();
    if (!reply) throw new Error('connection closed before reply');
    return reply;
  }

  /** Resolves when the server has closed the connection. */
  closed(): Promise<void> {
    if (this.ended) return Promise.resolve();
    return new Promise((res) => this.socket.once('close', () => res()));
  }

  close(): void {
    this.socket.destroy();
  }
}

/** One request on its own connection, as the reference clients do. */
export async function call(port: number, obj: unknown): Promise<Reply> {
  const c = await Client.connect(port);
  try {
    return await c.call(obj);
  } finally {
    c.close();
  }
}

/**
 * Sends each request on a connection of its own, one at a time, and keeps the client port
 * of each (`ports`, in order): in a syscall trace, the work between a connection's accept
 * and its reply is that request's.
 */
export function oneConnectionEach(port: number): { send: (body: Reply) => Promise<Reply>; ports: number[] } {
  const ports: number[] = [];
  const send = async (body: Reply): Promise<Reply> => {
    const c = await Client.connect(port);
    try {
      const reply = await c.call(body);
      ports.push(c.socket.localPort!);
      return reply;
    } finally {
      c.close();
    }
  };
  return { send, ports };
}
