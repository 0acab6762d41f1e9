import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { HttpError } from '../../http/http-server.js';

// How often the state is compared with what subscribers last got, in ms, at most; and how
// often an idle stream carries a comment so proxies and browsers keep it open.
const CHECK_MS = 250;
// A check waits this many times as long as the last serialisation took, so a large namespace
// costs the master at most a fifth of its time, however many streams or checks are asked for.
const COST_FACTOR = 4;
const PING_MS = 15_000;
/**
 * Bytes a stream may hold unsent in the master (beyond what the kernel's socket buffer took)
 * before one more event: past it the reader is too slow and the stream is closed, not buffered.
 */
export const MAX_STREAM_BUFFER_BYTES = 1024 * 1024;
/** A stream whose buffer has not drained for this long is closed: the write deadline. */
export const STREAM_WRITE_DEADLINE_MS = 30_000;

/**
 * Server-sent events of one kind of state: each subscriber gets the state at once, then
 * again whenever it changes. The state is serialised once per check and the same text goes
 * to every stream. Runs a timer only while someone listens.
 */
export class StateEvents {
  /** Each stream and since when its writes wait for 'drain' (null: not waiting). */
  private readonly subscribers = new Map<ServerResponse, number | null>();
  private timer: NodeJS.Timeout | null = null;
  private lastText = '';
  private lastAt = 0;
  private intervalMs = CHECK_MS;
  private lastPing = 0;

  constructor(
    private readonly state: () => unknown,
    private readonly o: { maxStreams: number; log: Logger },
  ) {}

  subscribe(res: ServerResponse): void {
    if (this.subscribers.size >= this.o.maxStreams) {
      throw new HttpError(503, 'too_many_streams', `${this.o.maxStreams} event streams are open ([master] console_max_streams); poll /api/state instead`, { 'retry-after': '5' });
    }
    // A burst of new streams shares one serialisation; a change it finds goes to every stream.
    if ((this.timer === null || Date.now() - this.lastAt >= this.intervalMs) && this.snapshot()) this.broadcastState();
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
    this.subscribers.set(res, null);
    res.on('close', () => {
      this.subscribers.delete(res);
      if (this.subscribers.size === 0) this.stopTimer();
    });
    this.send(res, `retry: 1000\nevent: state\ndata: ${this.lastText}\n\n`);
    this.timer ??= setTimeout(() => this.tick(), this.intervalMs);
  }

  /** Sends an event of its own kind to every subscriber (upload progress). */
  publish(event: string, data: unknown): void {
    const text = Buffer.from(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    for (const res of this.subscribers.keys()) this.send(res, text);
  }

  close(): void {
    this.stopTimer();
    for (const res of this.subscribers.keys()) res.end();
    this.subscribers.clear();
  }

  /** Serialises the state; true when it differs from the last text sent. */
  private snapshot(): boolean {
    const started = Date.now();
    const text = JSON.stringify(this.state());
    this.lastAt = Date.now();
    this.intervalMs = Math.max(CHECK_MS, COST_FACTOR * (this.lastAt - started));
    if (text === this.lastText) return false;
    this.lastText = text;
    return true;
  }

  /** Writes, unless the stream is too far behind: then it is closed and its buffer freed. */
  private send(res: ServerResponse, text: string | Buffer): void {
    if (res.destroyed) return;
    const waitingSince = this.subscribers.get(res) ?? null;
    const late = waitingSince !== null && Date.now() - waitingSince > STREAM_WRITE_DEADLINE_MS;
    if (res.writableLength > MAX_STREAM_BUFFER_BYTES || late) {
      this.o.log.warn({ buffered_bytes: res.writableLength, waiting_ms: waitingSince === null ? 0 : Date.now() - waitingSince }, 'event stream closed: its reader is too slow');
      res.destroy();
      return;
    }
    if (res.write(text) || waitingSince !== null) return;
    this.subscribers.set(res, Date.now());
    res.once('drain', () => {
      if (this.subscribers.has(res)) this.subscribers.set(res, null);
    });
  }

  private tick(): void {
    const now = Date.now();
    try {
      if (this.snapshot()) {
        this.broadcastState();
        this.lastPing = now;
      } else if (now - this.lastPing > PING_MS) {
        for (const res of this.subscribers.keys()) this.send(res, ': ping\n\n');
        this.lastPing = now;
      }
    } finally {
      // After the snapshot: the wait follows what it cost.
      this.timer = setTimeout(() => this.tick(), this.intervalMs);
    }
  }

  private broadcastState(): void {
    // One buffer held by every stream's queue, not a copy of the text per stream.
    const text = Buffer.from(`event: state\ndata: ${this.lastText}\n\n`);
    for (const res of this.subscribers.keys()) this.send(res, text);
  }

  private stopTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
