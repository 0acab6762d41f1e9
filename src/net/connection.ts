import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { FrameHasher, type FrameDigest } from '../auth/frame-hasher.js';
import { BadRequestError, errorToReply, MSG } from '../errors.js';
import type { BufferPool, Lease } from '../wire/buffer-pool.js';
import { decodeBody, encodeFrame, type Piece } from '../wire/codec.js';
import { FrameDecoder, type DecodedFrame, type Spill, type StreamOptions } from '../wire/frame-decoder.js';
import type { MemoryBudget } from '../wire/memory-budget.js';
import type { SpilledBin } from '../wire/spill.js';

export interface ConnectionLimits {
  readonly maxFrameBytes: number;
  /** A connection with no request under way and no traffic for this long is closed. */
  readonly idleTimeoutMs: number;
  /** A frame must arrive whole within this long of its first byte (slow-loris guard). */
  readonly frameTimeoutMs: number;
  /** A reply the client does not take within this long (one write or drain wait) closes the connection. */
  readonly writeTimeoutMs?: number;
}

/**
 * Decoded frame -> reply; never throws (each server's handler registry provides one).
 * `digest` is the frame's hash for the authentication guard, when the server asked for it.
 */
export type Dispatch = (decoded: unknown, digest?: FrameDigest) => Promise<Record<string, unknown>>;

export interface ConnectionOptions {
  readonly limits: ConnectionLimits;
  readonly dispatch: Dispatch;
  /** Slabs for frame bodies too large to assemble in a plain Buffer, and for read-backs. */
  readonly pool: BufferPool;
  /** How large frames are walked and where their large values go; null assembles every frame. */
  readonly stream: StreamOptions | null;
  /** Whether a command's request may carry spilled values as they are; others get them read back into memory. */
  readonly takesSpilled: (command: unknown) => boolean;
  /** Shared by every connection of the server: memory for incoming frame bodies. */
  readonly budget: MemoryBudget;
  /** Hash every frame as it arrives, for the authentication guard (src/auth/). */
  readonly hashFrames?: boolean;
  readonly log: Logger;
}

/** A frame that did not arrive in time; it takes its place in the queue so replies stay in order. */
type QueueItem = DecodedFrame | { kind: 'expired' } | { kind: 'no_memory' };

// Decoded frames waiting for their turn beyond this pause the socket: a pipelining client
// is read only as fast as it is answered.
const MAX_QUEUED_FRAMES = 8;
// [chunk_server] write_timeout_s's default, for servers built without one.
const DEFAULT_WRITE_TIMEOUT_MS = 60_000;
// After a fatal error reply, how long incoming bytes are read and dropped so the client
// gets the reply instead of a reset (closing with unread input makes the kernel send RST).
const LINGER_MS = 2000;
// A spilled value's bytes not yet on disk: above HIGH the socket is paused until LOW, so a
// client that sends faster than the disk writes holds at most this much memory per connection.
const SPILL_BACKLOG_HIGH_BYTES = 4 * 1024 * 1024;
const SPILL_BACKLOG_LOW_BYTES = 1024 * 1024;

/**
 * One client socket: bytes -> frames -> dispatch -> replies, one request at a time, replies
 * in request order, never reading ahead of what the socket can take back.
 */
export class Connection {
  private readonly decoder: FrameDecoder;
  private readonly hasher: FrameHasher | null;
  private readonly digests = new WeakMap<DecodedFrame, FrameDigest>();
  private readonly queue: QueueItem[] = [];
  private frameTimer: NodeJS.Timeout | null = null;
  private busy = false;
  private readEnded = false;
  private stopping = false;
  private fatal = false;
  private closed = false;
  private waitingForSpill = false;
  private idleWaiters: Array<() => void> = [];
  private readonly writeTimeoutMs: number;

  constructor(
    private readonly socket: Socket,
    private readonly opts: ConnectionOptions,
  ) {
    this.writeTimeoutMs = opts.limits.writeTimeoutMs ?? DEFAULT_WRITE_TIMEOUT_MS;
    this.decoder = new FrameDecoder(opts.limits.maxFrameBytes, opts.pool, opts.stream, opts.budget);
    this.hasher = opts.hashFrames ? new FrameHasher(opts.limits.maxFrameBytes) : null;
    socket.setTimeout(opts.limits.idleTimeoutMs);
    socket.on('timeout', () => this.onIdle());
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => {
      this.readEnded = true;
      this.maybeFinish();
    });
    socket.on('error', (err) => opts.log.debug({ err: err.message }, 'client socket error'));
    socket.on('close', () => this.onClose());
  }

  /** Server shutdown: finish what was received, then close. Resolves when the socket is closed. */
  stop(): Promise<void> {
    this.stopping = true;
    const done = new Promise<void>((resolve) => {
      if (this.closed) resolve();
      else this.idleWaiters.push(resolve);
    });
    this.maybeFinish();
    return done;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.fatal) return;
    const queued = this.queue.length;
    const digests = this.hasher?.push(chunk);
    try {
      this.decoder.push(chunk, this.queue as DecodedFrame[]);
    } catch (err) {
      // Memory for the frame could not be had: this connection ends, the process lives on.
      this.opts.log.warn({ err: (err as Error).message, pending: this.decoder.pendingBytes }, 'no memory for an incoming frame');
      this.decoder.dispose();
      this.queue.push({ kind: 'no_memory' });
      this.fatal = true;
      void this.pump();
      return;
    }
    // Both follow the same framing, so the frames that ended in this read pair up in order.
    if (digests) for (let i = queued; i < this.queue.length; i++) this.digests.set(this.queue[i] as DecodedFrame, digests[i - queued]!);
    this.armFrameTimer(this.queue.length > queued);
    const spill = this.decoder.activeSpill;
    if (spill && !this.waitingForSpill && spill.backlogBytes > SPILL_BACKLOG_HIGH_BYTES) {
      this.waitingForSpill = true;
      void spill.drained(SPILL_BACKLOG_LOW_BYTES).then(() => {
        this.waitingForSpill = false;
        this.updateFlow();
      });
    }
    this.updateFlow();
    void this.pump();
  }

  /** Times each frame from its first byte; `completed` says a frame ended in this read. */
  private armFrameTimer(completed: boolean): void {
    if (!this.decoder.inFrame || completed) {
      if (this.frameTimer) clearTimeout(this.frameTimer);
      this.frameTimer = null;
    }
    if (this.decoder.inFrame && !this.frameTimer) {
      this.frameTimer = setTimeout(() => {
        this.queue.push({ kind: 'expired' });
        this.fatal = true;
        void this.pump();
      }, this.opts.limits.frameTimeoutMs);
    }
  }

  private onIdle(): void {
    if (this.busy || this.queue.length > 0 || this.decoder.inFrame) return;
    this.opts.log.debug('closing idle connection');
    this.socket.end();
  }

  /** Reads only while there is room: few queued frames and a spill backlog under its limit. */
  private updateFlow(): void {
    if (this.fatal || this.closed) return;
    if (this.waitingForSpill || this.queue.length >= MAX_QUEUED_FRAMES) this.socket.pause();
    else this.socket.resume();
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      let frame: QueueItem | undefined;
      while (!this.closed && (frame = this.queue.shift())) {
        this.updateFlow();
        await this.handle(frame);
      }
    } catch (err) {
      // A reply could not be written (the client went away mid-reply): nothing to answer.
      this.opts.log.debug({ err: (err as Error).message }, 'reply aborted');
      this.socket.destroy();
    } finally {
      this.busy = false;
    }
    this.maybeFinish();
  }

  private async handle(frame: QueueItem): Promise<void> {
    if (frame.kind === 'oversize') {
      return this.failStream(`frame too large: ${frame.length} bytes, limit ${this.opts.limits.maxFrameBytes}`);
    }
    if (frame.kind === 'expired') {
      return this.failStream(`frame timeout: incomplete after ${this.opts.limits.frameTimeoutMs / 1000} s`);
    }
    if (frame.kind === 'malformed') return this.failStream(frame.why);
    if (frame.kind === 'no_memory') return this.failStream(MSG.outOfMemory, false);
    if (frame.kind === 'refused') return this.send(new BadRequestError(frame.why).toReply());
    if (frame.kind === 'streamed') return this.handleStreamed(frame.skeleton, frame.spills, this.digests.get(frame));
    try {
      let decoded: unknown;
      try {
        decoded = decodeBody(frame.body);
      } catch {
        return await this.failStream('undecodable body');
      }
      const reply = await this.opts.dispatch(decoded, this.digests.get(frame));
      await this.send(reply);
    } finally {
      frame.lease?.release();
    }
  }

  /**
   * A large frame: its spilled values are complete once their targets finish; they take the
   * place of the nils the skeleton holds for them. The targets are discarded before the reply
   * goes out, so a request that did not keep its data has released its space by then.
   */
  private async handleStreamed(skeleton: Buffer, spills: Spill[], digest: FrameDigest | undefined): Promise<void> {
    let reply: Record<string, unknown> | null;
    const leases: Lease[] = [];
    try {
      reply = await this.dispatchStreamed(skeleton, spills, leases, digest);
    } finally {
      for (const lease of leases) lease.release();
      await discardAll(spills);
    }
    if (reply === null) return this.failStream('undecodable body');
    await this.send(reply);
  }

  /** The reply, or null when the skeleton is not msgpack. Values read back into memory hold `leases`. */
  private async dispatchStreamed(skeleton: Buffer, spills: Spill[], leases: Lease[], digest: FrameDigest | undefined): Promise<Record<string, unknown> | null> {
    const values: Array<[string, SpilledBin]> = [];
    for (const { key, target } of spills) {
      try {
        values.push([key, await target.finish()]);
      } catch (err) {
        const { reply, expected } = errorToReply(err);
        if (!expected) this.opts.log.error({ err }, 'storing a large value failed');
        return reply;
      }
    }
    let decoded: unknown;
    try {
      decoded = decodeBody(skeleton);
    } catch {
      return null;
    }
    if (typeof decoded === 'object' && decoded !== null) {
      const asIs = this.opts.takesSpilled((decoded as Record<string, unknown>).command);
      for (const [i, [key, spilled]] of values.entries()) {
        let value: Buffer | SpilledBin = spilled;
        if (!asIs) {
          value = await this.readBack(spilled, leases);
          // The bytes are in memory now: the temp file and its space reservation can go.
          await spills[i]!.target.discard();
        }
        Object.defineProperty(decoded, key, { value, enumerable: true, writable: true, configurable: true });
      }
    }
    return this.opts.dispatch(decoded, digest);
  }

  /** A spilled value as a Buffer, for commands that only take bytes in memory. */
  private async readBack(spilled: SpilledBin, leases: Lease[]): Promise<Buffer> {
    const lease = this.opts.pool.acquire(spilled.size);
    leases.push(lease);
    const body = spilled.fileBody();
    let at = 0;
    try {
      await body.pipe(async (block) => {
        at += block.copy(lease.buf, at);
      });
    } finally {
      await body.close();
    }
    return lease.buf;
  }

  /** The byte stream can no longer be trusted: answer, then close. */
  private async failStream(why: string, clientFault = true): Promise<void> {
    this.fatal = true;
    this.opts.log.debug({ why }, 'closing connection after protocol violation');
    this.dropQueue();
    await this.send(clientFault ? new BadRequestError(why).toReply() : { status: 'error', message: why });
    lingerAndClose(this.socket);
  }

  private async send(reply: Record<string, unknown>): Promise<void> {
    const pieces = encodeFrame(reply);
    try {
      await this.writePieces(pieces);
    } finally {
      for (const piece of pieces) if (!Buffer.isBuffer(piece)) await piece.close();
    }
  }

  private async writePieces(pieces: Piece[]): Promise<void> {
    let needDrain = false;
    this.socket.cork();
    try {
      for (const piece of pieces) {
        if (Buffer.isBuffer(piece)) {
          needDrain = !this.socket.write(piece);
          continue;
        }
        this.socket.uncork();
        await piece.pipe((block) => this.writeAndWait(block));
        this.socket.cork();
        needDrain = this.socket.writableNeedDrain;
      }
    } finally {
      this.socket.uncork();
    }
    if (needDrain) await this.drained();
  }

  /** Resolves once `block` is handed to the kernel, so the caller may reuse it. */
  private writeAndWait(block: Buffer): Promise<void> {
    return this.withDeadline('write', (done) => {
      if (this.socket.destroyed) return done(new Error('socket closed'));
      this.socket.write(block, (err) => done(err ?? null));
    });
  }

  private drained(): Promise<void> {
    return this.withDeadline('drain', (done) => {
      const onDrain = (): void => done(null);
      this.socket.once('drain', onDrain);
      return () => this.socket.off('drain', onDrain);
    });
  }

  /**
   * Every wait on the client is bounded: a client that does not take its reply within
   * `write_timeout_s` loses the connection, and with it whatever the reply held open (a
   * retrieve's file). The socket closing ends the wait too.
   */
  private withDeadline(what: string, start: (done: (err: Error | null) => void) => (() => void) | void): Promise<void> {
    return new Promise((resolve, reject) => {
      let cleanup: (() => void) | void;
      let settled = false;
      const done = (err: Error | null): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.socket.off('close', onClose);
        cleanup?.();
        if (err) reject(err);
        else resolve();
      };
      const onClose = (): void => done(new Error(`socket closed while waiting for ${what}`));
      const timer = setTimeout(() => {
        this.opts.log.info({ waited_s: this.writeTimeoutMs / 1000 }, 'client does not read its reply; closing the connection');
        this.socket.destroy();
        done(new Error(`${what} timed out`));
      }, this.writeTimeoutMs);
      this.socket.once('close', onClose);
      cleanup = start(done);
    });
  }

  /** Frames that will not be handled give back their slab or their spilled values. */
  private dropQueue(): void {
    for (const frame of this.queue.splice(0)) {
      if (frame.kind === 'frame') frame.lease?.release();
      else if (frame.kind === 'streamed') void discardAll(frame.spills);
    }
  }

  private maybeFinish(): void {
    if (this.busy || this.fatal || this.closed || this.queue.length > 0) return;
    if (this.readEnded || (this.stopping && !this.decoder.inFrame)) this.socket.end();
  }

  private onClose(): void {
    this.closed = true;
    if (this.frameTimer) clearTimeout(this.frameTimer);
    this.decoder.dispose();
    this.dropQueue();
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}

/**
 * Ends a socket after a final reply while still reading (and dropping) what the client
 * sends, so the kernel does not answer unread input with a reset that destroys the reply.
 */
export function lingerAndClose(socket: Socket): void {
  socket.end();
  socket.resume();
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}

/** Answers a connection the server will not serve, then closes it. */
export function refuseConnection(socket: Socket, reply: Record<string, unknown>): void {
  socket.on('error', () => undefined);
  for (const piece of encodeFrame(reply)) socket.write(piece as Buffer);
  lingerAndClose(socket);
}

async function discardAll(spills: Spill[]): Promise<void> {
  await Promise.all(spills.map(({ target }) => target.discard()));
}
