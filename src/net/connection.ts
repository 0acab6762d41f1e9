import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { BadRequestError, MSG } from '../errors.js';
import type { BufferPool } from '../wire/buffer-pool.js';
import { decodeBody } from '../wire/codec.js';
import { LengthFramer, type DecodedFrame, type StreamOptions } from '../wire/length-framer.js';
import type { MemoryBudget } from '../wire/memory-budget.js';
import { lingerAndClose, ReplyWriter } from './reply-writer.js';
import { discardSpills, dispatchStreamed } from './streamed-request.js';

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
 * `seen` is what the server's frame observer made of the frame's bytes, when it has one.
 */
export type Dispatch<Seen = unknown> = (decoded: unknown, seen?: Seen) => Promise<Record<string, unknown>>;

/**
 * Follows a connection's raw bytes beside the framer (the authentication guard hashes each
 * frame as it arrives): returns one result per frame that ended in `chunk`, in stream order.
 */
export interface FrameObserver<Seen> {
  push(chunk: Buffer): Seen[];
}

export interface ConnectionOptions<Seen> {
  readonly limits: ConnectionLimits;
  readonly dispatch: Dispatch<Seen>;
  /** Slabs for frame bodies too large to assemble in a plain Buffer, and for read-backs. */
  readonly pool: BufferPool;
  /** How large frames are walked and where their large values go; null assembles every frame. */
  readonly stream: StreamOptions | null;
  /** Whether a command's request may carry spilled values as they are; others get them read back into memory. */
  readonly takesSpilled: (command: unknown) => boolean;
  /** Shared by every connection of the server: memory for incoming frame bodies. */
  readonly budget: MemoryBudget;
  readonly observer?: FrameObserver<Seen>;
  readonly log: Logger;
}

/** A frame that did not arrive in time; it takes its place in the queue so replies stay in order. */
type QueueItem = DecodedFrame | { kind: 'expired' } | { kind: 'no_memory' };

// Decoded frames waiting for their turn beyond this pause the socket: a pipelining client
// is read only as fast as it is answered.
const MAX_QUEUED_FRAMES = 8;
// [chunk_server] write_timeout_s's default, for servers built without one.
const DEFAULT_WRITE_TIMEOUT_MS = 60_000;
// A spilled value's bytes not yet on disk: above HIGH the socket is paused until LOW, so a
// client that sends faster than the disk writes holds at most this much memory per connection.
const SPILL_BACKLOG_HIGH_BYTES = 4 * 1024 * 1024;
const SPILL_BACKLOG_LOW_BYTES = 1024 * 1024;

/**
 * One client socket: bytes -> frames -> dispatch -> replies, one request at a time, replies
 * in request order, never reading ahead of what the socket can take back.
 */
export class Connection<Seen> {
  private readonly framer: LengthFramer;
  private readonly writer: ReplyWriter;
  private readonly seen = new WeakMap<DecodedFrame, Seen>();
  private readonly queue: QueueItem[] = [];
  private frameTimer: NodeJS.Timeout | null = null;
  private busy = false;
  private readEnded = false;
  private stopping = false;
  private fatal = false;
  private closed = false;
  private waitingForSpill = false;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly socket: Socket,
    private readonly opts: ConnectionOptions<Seen>,
  ) {
    this.framer = new LengthFramer(opts.limits.maxFrameBytes, opts.pool, opts.stream, opts.budget);
    this.writer = new ReplyWriter(socket, opts.limits.writeTimeoutMs ?? DEFAULT_WRITE_TIMEOUT_MS, opts.log);
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
    const seen = this.opts.observer?.push(chunk);
    try {
      this.framer.push(chunk, this.queue as DecodedFrame[]);
    } catch (err) {
      // Memory for the frame could not be had: this connection ends, the process lives on.
      this.opts.log.warn({ err: (err as Error).message, pending: this.framer.pendingBytes }, 'no memory for an incoming frame');
      this.framer.dispose();
      this.queue.push({ kind: 'no_memory' });
      this.fatal = true;
      void this.pump();
      return;
    }
    // Both follow the same framing, so the frames that ended in this read pair up in order.
    if (seen) for (let i = queued; i < this.queue.length; i++) this.seen.set(this.queue[i] as DecodedFrame, seen[i - queued]!);
    this.armFrameTimer(this.queue.length > queued);
    const spill = this.framer.activeSpill;
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
    if (!this.framer.inFrame || completed) {
      if (this.frameTimer) clearTimeout(this.frameTimer);
      this.frameTimer = null;
    }
    if (this.framer.inFrame && !this.frameTimer) {
      this.frameTimer = setTimeout(() => {
        this.queue.push({ kind: 'expired' });
        this.fatal = true;
        void this.pump();
      }, this.opts.limits.frameTimeoutMs);
    }
  }

  private onIdle(): void {
    if (this.busy || this.queue.length > 0 || this.framer.inFrame) return;
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
    if (frame.kind === 'refused') return this.writer.send(new BadRequestError(frame.why).toReply());
    const seen = this.seen.get(frame);
    if (frame.kind === 'streamed') {
      const reply = await dispatchStreamed(frame.skeleton, frame.spills, (decoded) => this.opts.dispatch(decoded, seen), this.opts);
      return reply === null ? this.failStream('undecodable body') : this.writer.send(reply);
    }
    try {
      let decoded: unknown;
      try {
        decoded = decodeBody(frame.body);
      } catch {
        return await this.failStream('undecodable body');
      }
      const reply = await this.opts.dispatch(decoded, seen);
      await this.writer.send(reply);
    } finally {
      frame.lease?.release();
    }
  }

  /** The byte stream can no longer be trusted: answer, then close. */
  private async failStream(why: string, clientFault = true): Promise<void> {
    this.fatal = true;
    this.opts.log.debug({ why }, 'closing connection after protocol violation');
    this.dropQueue();
    await this.writer.send(clientFault ? new BadRequestError(why).toReply() : { status: 'error', message: why });
    lingerAndClose(this.socket);
  }

  /** Frames that will not be handled give back their slab or their spilled values. */
  private dropQueue(): void {
    for (const frame of this.queue.splice(0)) {
      if (frame.kind === 'frame') frame.lease?.release();
      else if (frame.kind === 'streamed') void discardSpills(frame.spills);
    }
  }

  private maybeFinish(): void {
    if (this.busy || this.fatal || this.closed || this.queue.length > 0) return;
    if (this.readEnded || (this.stopping && !this.framer.inFrame)) this.socket.end();
  }

  private onClose(): void {
    this.closed = true;
    if (this.frameTimer) clearTimeout(this.frameTimer);
    this.framer.dispose();
    this.dropQueue();
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
