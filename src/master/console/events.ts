import type { ServerResponse } from 'node:http';

// How often the state is compared with what subscribers last got, in ms; and how often an
// idle stream carries a comment so proxies and browsers keep it open.
const CHECK_MS = 250;
const PING_MS = 15_000;

/**
 * Server-sent events of one kind of state: each subscriber gets the state at once, then
 * again whenever it changes. Runs a timer only while someone listens.
 */
export class StateEvents {
  private readonly subscribers = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | null = null;
  private lastText = '';
  private lastPing = 0;

  constructor(private readonly state: () => unknown) {}

  subscribe(res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
    this.lastText = JSON.stringify(this.state());
    res.write(`retry: 1000\nevent: state\ndata: ${this.lastText}\n\n`);
    this.subscribers.add(res);
    res.on('close', () => {
      this.subscribers.delete(res);
      if (this.subscribers.size === 0) this.stopTimer();
    });
    this.timer ??= setInterval(() => this.tick(), CHECK_MS);
  }

  /** Sends an event of its own kind to every subscriber (upload progress). */
  publish(event: string, data: unknown): void {
    const text = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const res of this.subscribers) res.write(text);
  }

  close(): void {
    this.stopTimer();
    for (const res of this.subscribers) res.end();
    this.subscribers.clear();
  }

  private tick(): void {
    const text = JSON.stringify(this.state());
    const now = Date.now();
    if (text !== this.lastText) {
      this.lastText = text;
      for (const res of this.subscribers) res.write(`event: state\ndata: ${text}\n\n`);
      this.lastPing = now;
    } else if (now - this.lastPing > PING_MS) {
      for (const res of this.subscribers) res.write(': ping\n\n');
      this.lastPing = now;
    }
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
