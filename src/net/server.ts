import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { MSG } from '../errors.js';
import type { BufferPool } from '../wire/buffer-pool.js';
import type { StreamOptions } from '../wire/length-framer.js';
import { MemoryBudget } from '../wire/memory-budget.js';
import { Connection, type ConnectionLimits, type Dispatch, type FrameObserver } from './connection.js';
import { listenOn } from './listen.js';
import { refuseConnection } from './reply-writer.js';
import { membersByCertificate, tlsAcceptor, type ServerTls } from './tls-accept.js';

const LISTEN_BACKLOG = 4096;
// [chunk_server] frame_memory_mb's default, for servers built without one.
const DEFAULT_FRAME_MEMORY_BYTES = 512 * 1024 * 1024;

export interface ListenOptions<Seen> {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly limits: ConnectionLimits;
  /** Connections beyond this are answered `too_many_connections` and closed. */
  readonly maxConnections: number;
  readonly dispatch: Dispatch<Seen>;
  readonly pool: BufferPool;
  /** How large frames are walked and where their large values go; null assembles every frame. */
  readonly stream: StreamOptions | null;
  /** Whether a command's request may carry spilled values as they are; others get them read back. */
  readonly takesSpilled: (command: unknown) => boolean;
  /** Memory for incoming frame bodies, over all connections, in bytes. */
  readonly frameMemoryBytes?: number;
  /** A fresh observer of each connection's bytes, whose results `dispatch` gets beside each frame. */
  readonly observeFrames?: () => FrameObserver<Seen>;
  readonly log: Logger;
  /** Sees every accepted socket (metrics count their bytes and lives). */
  readonly onSocket?: (socket: Socket) => void;
  /** [security] tls; absent: plain TCP only. */
  readonly tls?: ServerTls;
}

export interface RunningServer {
  readonly port: number;
  /** Stops accepting, lets connections finish what they received, and force-closes after `graceMs`. */
  close(graceMs: number): Promise<void>;
}

export async function listen<Seen>(opts: ListenOptions<Seen>): Promise<RunningServer> {
  const connections = new Set<Connection<Seen>>();
  const budget = new MemoryBudget(opts.frameMemoryBytes ?? DEFAULT_FRAME_MEMORY_BYTES);
  // allowHalfOpen: a client that sends its request and shuts down its write side must still
  // get the reply (shared/field-notes.md, "Sockets").
  const server: Server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    opts.onSocket?.(socket);
    if (connections.size >= opts.maxConnections) {
      opts.log.debug({ open: connections.size }, 'refusing connection over the limit');
      refuseConnection(socket, { status: 'error', message: MSG.tooManyConnections });
      return;
    }
    if (acceptTls) acceptTls(socket);
    else serve(socket, opts.dispatch);
  });
  const tls = opts.tls;
  const acceptTls =
    tls &&
    tlsAcceptor(tls, { handshakeTimeoutMs: opts.limits.frameTimeoutMs, log: opts.log }, ({ socket, member }) => {
      const remote = `${socket.remoteAddress}:${socket.remotePort}`;
      serve(socket, member ? opts.dispatch : membersByCertificate(opts.dispatch, tls, { remote, log: opts.log }));
    });
  const serve = (socket: Socket, dispatch: Dispatch<Seen>): void => {
    const { limits, pool, stream, takesSpilled, log } = opts;
    const conn = new Connection(socket, { limits, dispatch, pool, stream, takesSpilled, budget, observer: opts.observeFrames?.(), log });
    connections.add(conn);
    socket.once('close', () => connections.delete(conn));
  };
  server.on('error', (err) => opts.log.error({ err }, 'server socket error'));

  // A deep accept queue: a burst of connects beyond Node's default 511 would otherwise be
  // dropped by the kernel while the clients believe they are connected.
  const port = await listenOn(server, { port: opts.port, host: opts.host, backlog: LISTEN_BACKLOG });

  return {
    port,
    async close(graceMs) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      const finished = Promise.all([...connections].map((c) => c.stop()));
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)));
      if ((await Promise.race([finished, timedOut])) === 'timeout') {
        opts.log.warn({ open: connections.size }, 'shutdown grace period over; closing remaining connections');
        for (const c of connections) c.destroy();
      }
      clearTimeout(timer);
      await closed;
    },
  };
}
