import type { Socket } from 'node:net';

export interface ConnectionPoolOptions {
  /** Idle connections kept per address; one more given back closes the oldest. */
  readonly maxIdlePerAddress: number;
  /** An idle connection unused this long is closed, in ms. Keep it under the servers' idle_timeout_s. */
  readonly idleMs: number;
}

/** Well under the servers' idle_timeout_s (default 300 s): our side lets go first, so a server never closes a connection we are about to use. */
export const DEFAULT_POOL_IDLE_MS = 15_000;

interface Idle {
  readonly socket: Socket;
  readonly timer: NodeJS.Timeout;
  readonly gone: () => void;
  /** False until one turn of the event loop has passed since it came back (see give). */
  ready: boolean;
}

/**
 * Connections kept open between exchanges (PROTOCOL.md section 4: one connection carries any
 * number of requests), so a TLS handshake is paid per connection, not per request. The pool
 * only holds idle sockets: exchange() (exchange.ts) takes one, runs one request on it, and
 * gives it back only after a whole reply with nothing after it. An idle socket the peer
 * closes, resets or sends anything on is dropped at once and never handed out again.
 * Idle sockets are unref'd: a pool never keeps a process alive.
 */
export class ConnectionPool {
  private readonly idle = new Map<string, Idle[]>();
  private closed = false;
  /** Connections this pool's users opened (the test and the bench compare it with requests). */
  opened = 0;
  /** Requests that ran on a connection taken from the pool. */
  reused = 0;

  constructor(private readonly opts: ConnectionPoolOptions) {}

  /** The most recently used live idle connection to `address`, now the caller's; null when none. */
  take(address: string): Socket | null {
    const list = this.idle.get(address);
    while (list && list.length > 0) {
      let at = list.length - 1;
      while (at >= 0 && !list[at]!.ready) at--;
      if (at < 0) return null;
      const entry = list.splice(at, 1)[0]!;
      this.detach(entry);
      if (list.length === 0) this.idle.delete(address);
      const s = entry.socket;
      if (s.destroyed || !s.readable || !s.writable || s.readableLength > 0) {
        s.destroy();
        continue;
      }
      s.ref();
      this.reused++;
      return s;
    }
    return null;
  }

  /** Takes back a socket whose last reply was read whole; the socket must be paused with no listeners of the exchange left. */
  give(address: string, socket: Socket): void {
    if (this.closed || socket.destroyed || !socket.readable || !socket.writable) {
      socket.destroy();
      return;
    }
    let list = this.idle.get(address);
    if (!list) this.idle.set(address, (list = []));
    const gone = (): void => {
      const at = list.indexOf(entry);
      if (at >= 0) list.splice(at, 1);
      if (list.length === 0 && this.idle.get(address) === list) this.idle.delete(address);
      this.detach(entry);
      socket.destroy();
    };
    const entry: Idle = { socket, gone, timer: setTimeout(gone, this.opts.idleMs).unref(), ready: false };
    // Whatever an idle socket hears ends it: the peer's close or reset, or bytes nobody asked for.
    socket.on('data', gone);
    socket.on('end', gone);
    socket.on('error', gone);
    socket.on('close', gone);
    socket.setTimeout(0);
    socket.unref();
    socket.resume();
    // A peer that closes after each reply (the reference's servers) sends its FIN right behind
    // the reply: one poll of the event loop reads it, so the socket is handed out only after
    // one, and a request is never written into a connection already closing. A caller whose
    // next request follows its last reply at once therefore uses two connections in turn.
    setImmediate(() => (entry.ready = true));
    list.push(entry);
    while (list.length > this.opts.maxIdlePerAddress) list[0]!.gone();
  }

  /** Idle connections now held, over all addresses. */
  get size(): number {
    let n = 0;
    for (const list of this.idle.values()) n += list.length;
    return n;
  }

  /** Closes every idle connection; sockets given back later are closed at once. */
  close(): void {
    this.closed = true;
    for (const list of [...this.idle.values()]) for (const entry of [...list]) entry.gone();
  }

  private detach(entry: Idle): void {
    clearTimeout(entry.timer);
    const s = entry.socket;
    s.off('data', entry.gone);
    s.off('end', entry.gone);
    s.off('error', entry.gone);
    s.off('close', entry.gone);
    s.pause();
  }
}
