import type { ConnectionOptions } from 'node:tls';
import { PeerError } from './peer-errors.js';
import { BufferPool } from '../wire/buffer-pool.js';
import { encodeFrame } from '../wire/codec.js';
import type { Piece, SpillProvider } from '../wire/payload.js';
import { parseAddress, splitAddress } from './address.js';
import { exchange, type ExchangeFailure } from './exchange.js';
import { ConnectionPool, DEFAULT_POOL_IDLE_MS } from './pool.js';
import { Slots } from './slots.js';
import { commonName, isMemberName, type TlsSettings } from './tls.js';

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
  /** [security] tls: members speak mutual TLS to each other, each checking the other's name. */
  readonly tls?: TlsSettings;
}

export interface RpcAuth {
  /** The request's pieces, signed; `proof()` is its 56-byte proof once the pieces were written. */
  encode(body: Reply): { pieces: Piece[]; proof: () => Buffer };
  /** null when the reply `body` from `address` may be used, else why not. */
  checkReply(address: string, body: Buffer, reply: Reply, requestProof: Buffer): string | null;
}

/**
 * Outbound calls of cluster members, to the master and to other chunk servers: at most
 * `maxPerPeer` at once per address, each within a deadline, on connections kept between
 * requests (a TLS handshake per connection, not per request). Every failure (refused, timed
 * out, closed early, bad reply) rejects with a PeerError; nothing here throws anything else
 * or hangs past its deadline.
 */
export class Rpc {
  private readonly slots = new Map<string, Slots>();
  // Replies outlive the exchange (a retrieved chunk is forwarded elsewhere), so their bodies
  // must not sit in reused slabs: a pool that keeps nothing leaves them to the GC.
  private readonly pool = new BufferPool(0);
  /** Idle connections: twice as many per address as may be in flight (see ConnectionPool.give on why a caller may need two). */
  readonly connections: ConnectionPool;
  // Addresses that answered a notify: a reference master answers none and may hold the
  // connection open, so a notify goes on a kept connection only to a peer known to reply.
  private readonly answersNotify = new Set<string>();

  constructor(private readonly opts: RpcOptions) {
    this.connections = new ConnectionPool({ maxIdlePerAddress: 2 * opts.maxPerPeer, idleMs: DEFAULT_POOL_IDLE_MS });
  }

  /** Closes the kept idle connections (shutdown). */
  close(): void {
    this.connections.close();
  }

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
    const to = parseAddress(address);
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
      const left = Math.max(1, deadline - Date.now());
      const auth = this.opts.auth;
      const signed = auth?.encode(body);
      const reply = await exchange(address, to, signed?.pieces ?? encodeFrame(body), {
        pool: this.pool,
        maxReplyBytes: this.opts.maxReplyBytes,
        connectTimeoutMs: Math.min(this.opts.connectTimeoutMs, left),
        tls: this.opts.tls && memberTls(this.opts.tls),
        deadlineMs: left,
        endAfterRequest: true,
        replyOptional: !needReply,
        connections: needReply || this.answersNotify.has(address) ? this.connections : undefined,
        accept: (reply, bytes) => {
          if (typeof reply !== 'object' || reply === null || Array.isArray(reply) || Buffer.isBuffer(reply)) return 'reply is not a map';
          return signed ? auth!.checkReply(address, bytes, reply as Reply, signed.proof()) : null;
        },
        describe: (failure) => memberWords(failure, this.opts.connectTimeoutMs, timeoutMs),
      });
      if (!needReply && reply !== null) this.answersNotify.add(address);
      return reply as Reply | null;
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
}

/**
 * A member dials another with its own certificate and takes the other's only when the CA
 * signed it and its name is a member's; the host name is not checked, members are known by
 * certificate name, not by the address they registered.
 */
function memberTls(settings: TlsSettings): ConnectionOptions {
  return {
    secureContext: settings.credentials.context,
    checkServerIdentity: (host, cert) => {
      const name = commonName(cert);
      return isMemberName(settings.allowedNames, name) ? undefined : new Error(`certificate of ${host} names ${name ?? 'nobody'}, not a member in tls_allowed_names`);
    },
  };
}

/** How cluster members log a failed exchange; `budgetMs` is the caller's whole time, slot wait included. */
function memberWords(f: ExchangeFailure, connectTimeoutMs: number, budgetMs: number): string {
  switch (f.reason) {
    case 'timeout':
      return f.phase === 'connect' ? `connect timed out after ${connectTimeoutMs} ms` : `no reply within ${budgetMs} ms`;
    case 'socket-error':
      return f.err.code ?? f.err.message;
    case 'tls':
      return `TLS handshake failed: ${f.err.message}`;
    case 'ended':
      return 'closed without a reply';
    case 'closed':
      return 'connection closed';
    case 'send-failed':
      return `send failed: ${f.err.message}`;
    case 'no-memory':
      return `no memory for the reply: ${f.err.message}`;
    case 'oversize':
      return `reply of ${f.length} bytes is over the limit`;
    case 'unusable':
      return 'malformed reply';
    case 'undecodable':
      return 'undecodable reply';
    case 'sink-failed':
      return f.err.message;
    case 'refused':
      return f.why;
    case 'not-a-map':
      return 'reply is not a map';
  }
}

// A retrieve reply is a 64 MB chunk and its fields; anything beyond this is not one of ours.
const MAX_CALL_REPLY_BYTES = 1024 * 1024 * 1024;

export interface CallOptions {
  /** Longest silence (no byte sent or received) before the call fails. */
  readonly idleTimeoutMs: number;
  readonly connectTimeoutMs: number;
  /** Time for the whole call, connect included; absent: only the silence limit holds. */
  readonly deadlineMs?: number;
  /** Receives the reply's large bin values (`data` of retrieve_chunk). */
  readonly sink?: SpillProvider;
  /** Encodes each request (a client under `client_auth` signs it, PROTOCOL.md section 7); default: plain. */
  readonly encode?: (body: Reply) => Piece[];
  /** Speak TLS (PROTOCOL.md section 8) with these options: the CA, a client certificate; absent: plain TCP. */
  readonly tls?: ConnectionOptions;
  /** Keep connections between calls (one per call otherwise). */
  readonly connections?: ConnectionPool;
}

/**
 * The client library's call: sends `body` to `address` and resolves with the decoded reply,
 * error replies included. Fails with a PeerError when no whole reply arrives. The request's
 * file pieces are closed once the call is over.
 */
export async function call(address: string, body: Reply, opts: CallOptions, pool: BufferPool): Promise<Reply> {
  const to = splitAddress(address);
  if (to === null) throw new PeerError(address, `not a HOST:PORT address: ${address}`);
  const pieces = opts.encode ? opts.encode(body) : encodeFrame(body);
  try {
    const reply = await exchange(address, to, pieces, {
      pool,
      maxReplyBytes: MAX_CALL_REPLY_BYTES,
      sink: opts.sink,
      connectTimeoutMs: opts.connectTimeoutMs,
      tls: opts.tls,
      connections: opts.connections,
      idleTimeoutMs: opts.idleTimeoutMs,
      deadlineMs: opts.deadlineMs,
      accept: (reply) => (isReplyMap(reply) ? null : 'reply is not a map with a status'),
      describe: callWords,
    });
    return reply as Reply;
  } finally {
    for (const piece of pieces) if (!Buffer.isBuffer(piece)) void piece.close();
  }
}

/** PROTOCOL.md section 3: every reply is a map with `status`. */
function isReplyMap(reply: unknown): boolean {
  return typeof reply === 'object' && reply !== null && !Array.isArray(reply) && !Buffer.isBuffer(reply) && typeof (reply as Reply).status === 'string';
}

/** How the client library words a failed call; `gfs` prints these. */
function callWords(f: ExchangeFailure): string {
  switch (f.reason) {
    case 'timeout':
      return `no answer within ${f.ms} ms`;
    case 'socket-error':
      return f.err.code === 'ECONNREFUSED' ? 'connection refused' : f.err.message;
    case 'tls':
      return `TLS handshake failed: ${f.err.message}`;
    case 'ended':
    case 'closed':
      return 'connection closed before the reply';
    case 'no-memory':
      return `no memory for the reply: ${f.err.message}`;
    case 'oversize':
      return `reply of ${f.length} bytes is too large`;
    case 'unusable':
      return `unusable reply: ${f.why}`;
    case 'refused':
      return f.why;
    case 'not-a-map':
      return 'reply is not a msgpack map';
    case 'send-failed':
    case 'undecodable':
    case 'sink-failed':
      return f.err.message;
  }
}
