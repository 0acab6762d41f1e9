import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { encodeFrame } from '../wire/codec.js';
import { writePieces, type WriteDeadline } from './frame-writer.js';

// After a fatal error reply, how long incoming bytes are read and dropped so the client
// gets the reply instead of a reset (closing with unread input makes the kernel send RST).
const LINGER_MS = 2000;

/** Sends one connection's replies, each bounded by the write timeout. */
export class ReplyWriter {
  private readonly deadline: WriteDeadline;

  constructor(
    private readonly socket: Socket,
    writeTimeoutMs: number,
    log: Logger,
  ) {
    // A client that does not take its reply within `write_timeout_s` loses the connection,
    // and with it whatever the reply held open (a retrieve's file).
    this.deadline = {
      ms: writeTimeoutMs,
      expired: () => {
        log.info({ waited_s: writeTimeoutMs / 1000 }, 'client does not read its reply; closing the connection');
        socket.destroy();
      },
    };
  }

  /** Resolves once the socket can take more; the reply's file pieces are closed either way. */
  async send(reply: Record<string, unknown>): Promise<void> {
    const pieces = encodeFrame(reply);
    try {
      await writePieces(this.socket, pieces, this.deadline);
    } finally {
      for (const piece of pieces) if (!Buffer.isBuffer(piece)) await piece.close();
    }
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
  // Nothing waits on a refused client: the linger ends the socket whatever it takes.
  writePieces(socket, encodeFrame(reply)).catch(() => undefined);
  lingerAndClose(socket);
}
