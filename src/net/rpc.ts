import { connect, type Socket } from 'node:net';
import { PeerError } from '../errors.js';
import { BufferPool } from '../wire/buffer-pool.js';
import { decodeBody, encodeFrame, type Piece } from '../wire/codec.js';
import { FrameDecoder, type DecodedFrame } from '../wire/frame-decoder.js';

export type Reply = Record<string, unknown>;

export interface RpcOptions {
  /** Time allowed for the TCP handshake, in ms. */
  readonly connectTimeoutMs: number;
  /** Default time for a whole exchange (queueing for a slot, connect, send, reply), in ms. */
  readonly requestTimeoutMs: number;
  /** Exchanges in flight to one address; more wait for a slot. */
  readonly maxPerPeer: number;
  /** Largest reply body accepted, in bytes. */
  readonly maxReplyBytes: number;
  /** A member's proofs on requests and checks of replies (src/auth/member.ts); absent: unsigned. */
  readonly auth?: RpcAuth;
}

export interface RpcAuth {
  /** The request's pieces, signed; `proof()` is its 56-byte proof once the pieces were written. */
  encode(body: Reply): { pieces: Piece[]; proof: () => Buffer };
  /** null when the reply `body` from `address` may be used, else why not. */
  checkReply(address: string, body: Buffer, reply: Reply, requestProof: Buffer): string | null;
}

/** `host:port` -> parts; IPv6 hosts may be bracketed (`[::1]:5000`). */
export function parseAddress(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  const port = Number(address.slice(at + 1));
  let host = address.slice(0, at);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (at <= 0 || host === '' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new PeerError(address, 'not a host:port address');
  }
  return { host, port };
}

/** Limits how many exchanges run at once against one address. */
class Slots {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly max: number) {}

  get idle(): boolean {
    return this.running === 0 && this.waiting.length === 0;
  }

  /**
   * Resolves when a slot is free. `abandon` withdraws a caller that gave up waiting; it
   * returns false when the slot had already been granted (the caller must then release it).
   */
  acquire(): { ready: Promise<void>; abandon: () => boolean } {
    if (this.running < this.max) {
      this.running++;
      return { ready: Promise.resolve(), abandon: () => false };
    }
    let grant!: () => void;
    const ready = new Promise<void>((resolve) => (grant = resolve));
    const entry = (): void => {
      this.running++;
      grant();
    };
    this.waiting.push(entry);
    return {
      ready,
      abandon: () => {
        const i = this.waiting.indexOf(entry);
        if (i < 0) return false;
        this.waiting.splice(i, 1);
        return true;
      },
    };
  }

  release(): void {
    this.running--;
    this.waiting.shift()?.();
  }
}

/**
 * Outbound calls to the master and to other chunk servers: one request per fresh TCP
 * connection, as every party of the reference protocol does. Every failure (refused,
 * timed out, closed early, bad reply) rejects with a PeerError; nothing here throws
 * anything else or hangs past its deadline.
 */
export class Rpc {
  private readonly slots = new Map<string, Slots>();
  // Replies outlive the exchange (a retrieved chunk is forwarded elsewhere), so their bodies
  // must not sit in reused slabs: a pool that keeps nothing leaves them to the GC.
  private readonly pool = new BufferPool(0);

  constructor(private readonly opts: RpcOptions) {}

  /** Sends `body` and resolves with the one reply frame. */
  async request(address: string, body: Reply, timeoutMs = this.opts.requestTimeoutMs): Promise<Reply> {
    const reply = await this.exchange(address, body, timeoutMs, true);
    if (reply === null) throw new PeerError(address, 'closed without a reply');
    return reply;
  }

  /**
   * For messages the reference answers with nothing (register_chunk_server, heartbeat,
   * update_file_metadata): sends `body`, ends the write side, and resolves with a reply if
   * the peer sends one before closing, else null. A peer that neither answers nor closes
   * within the deadline still counts as told.
   */
  notify(address: string, body: Reply, timeoutMs = this.opts.requestTimeoutMs): Promise<Reply | null> {
    return this.exchange(address, body, timeoutMs, false);
  }

  private async exchange(address: string, body: Reply, timeoutMs: number, needReply: boolean): Promise<Reply | null> {
    const { host, port } = parseAddress(address);
    const slots = this.slotsFor(address);
    const deadline = Date.now() + timeoutMs;
    const slot = slots.acquire();
    let timer: NodeJS.Timeout | undefined;
    const queued = await Promise.race([
      slot.ready.then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (!queued) {
      if (!slot.abandon()) slots.release();
      this.dropIfIdle(address, slots);
      throw new PeerError(address, `no free connection slot within ${timeoutMs} ms`);
    }
    try {
      return await this.once(address, host, port, body, Math.max(1, deadline - Date.now()), timeoutMs, needReply);
    } finally {
      slots.release();
      this.dropIfIdle(address, slots);
    }
  }

  private slotsFor(address: string): Slots {
    let slots = this.slots.get(address);
    if (!slots) this.slots.set(address, (slots = new Slots(this.opts.maxPerPeer)));
    return slots;
  }

  private dropIfIdle(address: string, slots: Slots): void {
    if (slots.idle && this.slots.get(address) === slots) this.slots.delete(address);
  }

  /** `timeoutMs` is what is left of the caller's `budgetMs` after waiting for a slot. */
  private once(address: string, host: string, port: number, body: Reply, timeoutMs: number, budgetMs: number, needReply: boolean): Promise<Reply | null> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port, noDelay: true, allowHalfOpen: true });
      const decoder = new FrameDecoder(this.opts.maxReplyBytes, this.pool);
      const frames: DecodedFrame[] = [];
      const auth = this.opts.auth;
      const signed = auth?.encode(body);
      let sent = false;
      let settled = false;

      const finish = (err: PeerError | null, reply: Reply | null = null): void => {
        if (settled) return;
        settled = true;
        clearTimeout(connectTimer);
        clearTimeout(deadline);
        socket.destroy();
        decoder.dispose();
        if (err) reject(err);
        else resolve(reply);
      };

      const connectTimer = setTimeout(
        () => finish(new PeerError(address, `connect timed out after ${this.opts.connectTimeoutMs} ms`)),
        Math.min(this.opts.connectTimeoutMs, timeoutMs),
      );
      const deadline = setTimeout(() => {
        if (!needReply && sent) finish(null);
        else finish(new PeerError(address, `no reply within ${budgetMs} ms`));
      }, timeoutMs);

      socket.on('error', (err: NodeJS.ErrnoException) => finish(new PeerError(address, err.code ?? err.message)));
      socket.on('data', (chunk: Buffer) => {
        try {
          decoder.push(chunk, frames);
        } catch (err) {
          return finish(new PeerError(address, `no memory for the reply: ${(err as Error).message}`));
        }
        const frame = frames.shift();
        if (!frame) return;
        if (frame.kind === 'oversize') return finish(new PeerError(address, `reply of ${frame.length} bytes is over the limit`));
        // The decoder is built without streaming, so every other frame is assembled whole.
        if (frame.kind !== 'frame') return finish(new PeerError(address, 'malformed reply'));
        let reply: unknown;
        try {
          reply = decodeBody(frame.body);
        } catch {
          return finish(new PeerError(address, 'undecodable reply'));
        }
        if (typeof reply !== 'object' || reply === null || Array.isArray(reply) || Buffer.isBuffer(reply)) {
          return finish(new PeerError(address, 'reply is not a map'));
        }
        const refused = signed && auth!.checkReply(address, frame.body, reply as Reply, signed.proof());
        if (refused) return finish(new PeerError(address, refused));
        finish(null, reply as Reply);
      });
      socket.on('end', () => {
        if (needReply || !sent) finish(new PeerError(address, 'closed without a reply'));
        else finish(null);
      });
      socket.on('close', () => finish(new PeerError(address, 'connection closed')));
      socket.once('connect', () => {
        clearTimeout(connectTimer);
        writeAll(socket, signed?.pieces ?? encodeFrame(body)).then(
          () => {
            sent = true;
            socket.end();
          },
          (err: Error) => finish(new PeerError(address, `send failed: ${err.message}`)),
        );
      });
    });
  }
}

/**
 * Writes the frame's pieces in order with back-pressure. File pieces belong to the caller
 * (the same payload may go to several peers), so they are piped but never closed here.
 */
async function writeAll(socket: Socket, pieces: Piece[]): Promise<void> {
  for (const piece of pieces) {
    if (Buffer.isBuffer(piece)) {
      if (!socket.write(piece)) await drained(socket);
    } else {
      await piece.pipe(
        (block) => new Promise<void>((resolve, reject) => socket.write(block, (err) => (err ? reject(err) : resolve()))),
      );
    }
  }
}

function drained(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      socket.off('close', onClose);
      resolve();
    };
    const onClose = (): void => {
      socket.off('drain', onDrain);
      reject(new Error('socket closed'));
    };
    socket.once('drain', onDrain);
    socket.once('close', onClose);
  });
}
