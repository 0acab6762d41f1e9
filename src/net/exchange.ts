import { connect, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';
import { PeerError } from './peer-errors.js';
import type { BufferPool } from '../wire/buffer-pool.js';
import { decodeBody } from '../wire/codec.js';
import { LEN_PREFIX_BYTES, LengthFramer, type DecodedFrame } from '../wire/length-framer.js';
import type { Piece, SpillProvider } from '../wire/payload.js';
import type { HostPort } from './address.js';
import type { ConnectionPool } from './pool.js';
import { writePieces } from './frame-writer.js';

// Replies at least this large are walked as they arrive and their large values go to the sink.
const STREAM_REPLY_MIN_BYTES = 64 * 1024;
// The socket is paused while the sink holds more than this, resumed below the low mark.
const SINK_HIGH_BYTES = 8 * 1024 * 1024;
const SINK_LOW_BYTES = 2 * 1024 * 1024;

// First bytes of a msgpack map: fixmap 0x80-0x8f, map16 0xde, map32 0xdf.
const isMapStart = (b: number): boolean => (b & 0xf0) === 0x80 || b === 0xde || b === 0xdf;

/** Why an exchange failed; each caller words it (its words reach logs, users and tests). */
export type ExchangeFailure =
  | { reason: 'timeout'; phase: 'connect' | 'idle' | 'deadline'; ms: number }
  | { reason: 'socket-error'; err: NodeJS.ErrnoException }
  /** The TLS handshake failed: the peer's certificate was refused, or the peer refused ours or speaks no TLS. */
  | { reason: 'tls'; err: NodeJS.ErrnoException }
  /** The peer shut down its side before replying. */
  | { reason: 'ended' }
  | { reason: 'closed' }
  | { reason: 'send-failed'; err: Error }
  | { reason: 'no-memory'; err: Error }
  | { reason: 'oversize'; length: number }
  /** A streamed reply the framer would not take: `why`. */
  | { reason: 'unusable'; why: string }
  | { reason: 'undecodable'; err: Error }
  /** The sink did not take a large value of the reply. */
  | { reason: 'sink-failed'; err: Error }
  /** The caller's `accept` refused the reply: `why`. */
  | { reason: 'refused'; why: string }
  /** The reply's body does not start a msgpack map (PROTOCOL.md section 1: every body is one): not our protocol. */
  | { reason: 'not-a-map' };

export interface ExchangeOptions {
  readonly pool: BufferPool;
  readonly maxReplyBytes: number;
  /** Receives the reply's large bin values as they arrive instead of memory (`data` of retrieve_chunk). */
  readonly sink?: SpillProvider;
  readonly connectTimeoutMs: number;
  /** Speak TLS with these options (context, identity check); absent: plain TCP. Connect time includes the handshake. */
  readonly tls?: ConnectionOptions;
  /** Longest silence once connected, until the reply is in; absent: no limit. */
  readonly idleTimeoutMs?: number;
  /** Time for the whole exchange from now; absent: no limit. */
  readonly deadlineMs?: number;
  /**
   * The reference's way: shut down our side once the request is out; the peer shutting
   * down its side before replying then ends the exchange.
   */
  readonly endAfterRequest?: boolean;
  /** The peer owes no reply: once the request is out, its closing or the deadline resolves null. */
  readonly replyOptional?: boolean;
  /** null when the reply may be used, else why not; `body` holds its bytes. */
  readonly accept?: (reply: unknown, body: Buffer) => string | null;
  /** The caller's words for a failure; the exchange rejects with a PeerError saying them. */
  readonly describe: (failure: ExchangeFailure) => string;
  /**
   * Keep the connection for the next exchange to the same address: take an idle one from
   * here, and give it back after a whole reply. `endAfterRequest` is ignored then (a
   * half-closed connection cannot carry another request).
   */
  readonly connections?: ConnectionPool;
}

/** An exchange's failure: the caller's words as the message, the reason for callers that branch on it. */
export class ExchangeError extends PeerError {
  constructor(
    address: string,
    message: string,
    readonly failure: ExchangeFailure,
  ) {
    super(address, message);
  }
}

/** A kept connection that turned out closed before any byte of its reply: the request is sent again on a new one. */
class StaleConnection extends Error {}

// What a kept connection the peer has just closed or reset looks like; the request did not
// reach a server that would answer it (servers close only idle connections, section 4).
const STALE_CODES: ReadonlySet<string | undefined> = new Set(['ECONNRESET', 'EPIPE']);
function isStale(f: ExchangeFailure): boolean {
  return f.reason === 'ended' || f.reason === 'closed' || f.reason === 'send-failed' || (f.reason === 'socket-error' && STALE_CODES.has(f.err.code));
}

/**
 * One request and its reply frame: on a connection of its own, as every party of the
 * reference protocol sends them (connect, write the request's pieces, read one reply frame),
 * or, with `connections`, on a kept one. Resolves with the decoded reply (null only when the
 * reply was optional and none came); every failure rejects with a PeerError, and nothing
 * outlives its timeouts. The pieces stay open: their owner closes them.
 *
 * Only requests all in memory go on a kept connection: if it proves closed before any reply
 * byte, they are sent again on a new one, which a file streamed once could not be.
 */
export async function exchange(address: string, to: HostPort, pieces: readonly Piece[], opts: ExchangeOptions): Promise<unknown> {
  const kept = opts.connections && pieces.every((p) => Buffer.isBuffer(p)) ? opts.connections.take(address) : null;
  if (kept === null) return exchangeOn(address, to, pieces, opts, null);
  const started = Date.now();
  try {
    return await exchangeOn(address, to, pieces, opts, kept);
  } catch (err) {
    if (!(err instanceof StaleConnection)) throw err;
    const deadlineMs = opts.deadlineMs === undefined ? undefined : Math.max(1, opts.deadlineMs - (Date.now() - started));
    return exchangeOn(address, to, pieces, { ...opts, deadlineMs }, null);
  }
}

function exchangeOn(address: string, to: HostPort, pieces: readonly Piece[], opts: ExchangeOptions, kept: Socket | null): Promise<unknown> {
  return new Promise((resolve, reject) => {
    // The prefix and the body's first byte: enough to tell a stranger (an HTTP or SMTP
    // server, say) at once instead of waiting for a body its prefix only seems to announce.
    const head = Buffer.alloc(LEN_PREFIX_BYTES + 1);
    let headBytes = 0;
    const socket: Socket =
      kept ??
      (opts.tls
        ? // allowHalfOpen reaches the TLSSocket at run time; @types/node leaves it out of ConnectionOptions.
          connectTls({ ...opts.tls, host: to.host, port: to.port, allowHalfOpen: true } as ConnectionOptions)
        : connect({ host: to.host, port: to.port, noDelay: true, allowHalfOpen: true }));
    if (kept === null && opts.connections) opts.connections.opened++;
    const endAfterRequest = opts.endAfterRequest === true && !opts.connections;
    let connected = kept !== null;
    const framer = new LengthFramer(opts.maxReplyBytes, opts.pool, opts.sink ? { spill: opts.sink, minFrameBytes: STREAM_REPLY_MIN_BYTES } : null);
    const frames: DecodedFrame[] = [];
    let sent = false;
    // Once the whole reply is in, the peer closing its side is expected, not a failure.
    let replied = false;
    let settled = false;

    const finish = (failure: ExchangeFailure | null, reply: unknown = null, reusable = false): void => {
      if (settled) return;
      settled = true;
      clearTimeout(connectTimer);
      clearTimeout(deadline);
      framer.dispose();
      if (reusable && opts.connections) {
        listen(false);
        socket.off(opts.tls ? 'secureConnect' : 'connect', start);
        opts.connections.give(address, socket);
      } else {
        socket.destroy();
      }
      if (failure && kept !== null && headBytes === 0 && isStale(failure)) reject(new StaleConnection());
      else if (failure) reject(new ExchangeError(address, opts.describe(failure), failure));
      else resolve(reply);
    };
    const told = (): boolean => opts.replyOptional === true && sent;

    const connectTimer = kept ? undefined : setTimeout(() => finish({ reason: 'timeout', phase: 'connect', ms: opts.connectTimeoutMs }), opts.connectTimeoutMs);
    const deadlineMs = opts.deadlineMs;
    const deadline =
      deadlineMs === undefined ? undefined : setTimeout(() => finish(told() ? null : { reason: 'timeout', phase: 'deadline', ms: deadlineMs }), deadlineMs);

    const onError = (err: NodeJS.ErrnoException): void => {
      if (!replied) finish(opts.tls && !connected && err.code !== 'ECONNREFUSED' ? { reason: 'tls', err } : { reason: 'socket-error', err });
    };
    // The peer's end of stream: nothing can follow it, so no reply is coming.
    const onEnd = (): void => {
      if (opts.tls && !connected) return finish({ reason: 'tls', err: new Error('the server closed the connection during the TLS handshake (is its tls off?)') });
      if (!replied) finish(told() ? null : { reason: 'ended' });
    };
    const onClose = (): void => {
      if (!replied) finish({ reason: 'closed' });
    };
    const onTimeout = (): void => {
      if (!replied) finish({ reason: 'timeout', phase: 'idle', ms: opts.idleTimeoutMs ?? 0 });
    };
    const start = (): void => {
      connected = true;
      clearTimeout(connectTimer);
      socket.setNoDelay(true);
      if (opts.idleTimeoutMs !== undefined) socket.setTimeout(opts.idleTimeoutMs);
      writePieces(socket, pieces).then(
        () => {
          sent = true;
          if (endAfterRequest) socket.end();
        },
        (err: Error) => finish({ reason: 'send-failed', err }),
      );
    };
    const onData = (chunk: Buffer): void => {
      if (replied) return;
      if (headBytes < head.length) {
        headBytes += chunk.copy(head, headBytes);
        // An oversize prefix is left to the framer, whose failure names the length.
        if (headBytes === head.length && head.readUInt32BE(0) <= opts.maxReplyBytes && !isMapStart(head[LEN_PREFIX_BYTES]!)) {
          return finish({ reason: 'not-a-map' });
        }
      }
      try {
        framer.push(chunk, frames);
      } catch (err) {
        return finish({ reason: 'no-memory', err: err as Error });
      }
      const frame = frames.shift();
      if (frame) {
        replied = true;
        socket.setTimeout(0);
        socket.pause();
        // A kept connection goes back only when the reply ended exactly where this read did.
        const clean = sent && frames.length === 0 && !framer.inFrame;
        void readReply(frame, opts).then((r) => ('failure' in r ? finish(r.failure) : finish(null, r.reply, clean)));
        return;
      }
      const spill = framer.activeSpill;
      if (spill && spill.backlogBytes > SINK_HIGH_BYTES) {
        socket.pause();
        void spill.drained(SINK_LOW_BYTES).then(() => socket.resume());
      }
    };
    const listen = (on: boolean): void => {
      const f = on ? socket.on.bind(socket) : socket.off.bind(socket);
      f('error', onError);
      f('end', onEnd);
      f('close', onClose);
      f('timeout', onTimeout);
      f('data', onData);
    };
    listen(true);
    if (kept) {
      start();
      socket.resume();
    } else {
      socket.once(opts.tls ? 'secureConnect' : 'connect', start);
    }
  });
}

/** The reply a frame holds, or why there is none to use. */
async function readReply(frame: DecodedFrame, opts: ExchangeOptions): Promise<{ reply: unknown } | { failure: ExchangeFailure }> {
  if (frame.kind === 'oversize') return { failure: { reason: 'oversize', length: frame.length } };
  if (frame.kind === 'refused' || frame.kind === 'malformed') return { failure: { reason: 'unusable', why: frame.why } };
  const body = frame.kind === 'frame' ? frame.body : frame.skeleton;
  try {
    let reply: unknown;
    try {
      reply = decodeBody(body);
    } catch (err) {
      return { failure: { reason: 'undecodable', err: err as Error } };
    }
    if (frame.kind === 'streamed') {
      for (const spill of frame.spills) {
        try {
          (reply as Record<string, unknown>)[spill.key] = await spill.target.finish();
        } catch (err) {
          return { failure: { reason: 'sink-failed', err: err as Error } };
        }
      }
    }
    const why = opts.accept?.(reply, body) ?? null;
    return why === null ? { reply } : { failure: { reason: 'refused', why } };
  } finally {
    if (frame.kind === 'frame') frame.lease?.release();
  }
}
