import type { Socket } from 'node:net';
import type { Piece } from '../wire/payload.js';

// TLS encrypts a write whole before any of it leaves: one 64 MiB write ran at a quarter of
// the speed of the same bytes in 1 MiB writes, each after the socket drained the last
// (measured on loopback between Node 20 processes, 2026-12). Plain TCP takes large writes as they are.
const TLS_WRITE_SLICE_BYTES = 1024 * 1024;

/** A bound on each wait for the peer to take bytes; `expired` runs (and should close the socket) when one is passed. */
export interface WriteDeadline {
  readonly ms: number;
  expired(): void;
}

/**
 * Writes one encoded frame's pieces in order. In-memory pieces go out under one cork, as
 * they are (never glued into a new buffer); a file piece is piped block by block, each block
 * once the socket took the one before, so the caller may reuse it. Resolves once the socket
 * can take more, and rejects when the socket closes first or a wait outlasts `deadline`.
 * File pieces are not closed here: their owner may send the same payload elsewhere.
 */
export async function writePieces(socket: Socket, pieces: readonly Piece[], deadline?: WriteDeadline): Promise<void> {
  let needDrain = false;
  socket.cork();
  const encrypted = (socket as Socket & { encrypted?: boolean }).encrypted === true;
  try {
    for (const piece of pieces) {
      if (Buffer.isBuffer(piece) && encrypted && piece.length > TLS_WRITE_SLICE_BYTES) {
        socket.uncork();
        for (let at = 0; at < piece.length; at += TLS_WRITE_SLICE_BYTES) {
          if (!socket.write(piece.subarray(at, at + TLS_WRITE_SLICE_BYTES))) await drained(socket, deadline);
        }
        socket.cork();
        needDrain = socket.writableNeedDrain;
        continue;
      }
      if (Buffer.isBuffer(piece)) {
        needDrain = !socket.write(piece);
        continue;
      }
      socket.uncork();
      await piece.pipe((block) => writeAndWait(socket, block, deadline));
      socket.cork();
      needDrain = socket.writableNeedDrain;
    }
  } finally {
    socket.uncork();
  }
  if (needDrain) await drained(socket, deadline);
}

/** Resolves once `block` is handed to the kernel. */
function writeAndWait(socket: Socket, block: Buffer, deadline: WriteDeadline | undefined): Promise<void> {
  return waitOn(socket, 'write', deadline, (done) => {
    if (socket.destroyed) return done(new Error('socket closed'));
    socket.write(block, (err) => done(err ?? null));
  });
}

function drained(socket: Socket, deadline: WriteDeadline | undefined): Promise<void> {
  return waitOn(socket, 'drain', deadline, (done) => {
    const onDrain = (): void => done(null);
    socket.once('drain', onDrain);
    return () => socket.off('drain', onDrain);
  });
}

/** Every wait ends: when `start` reports, when the socket closes, or at the deadline. */
function waitOn(
  socket: Socket,
  what: string,
  deadline: WriteDeadline | undefined,
  start: (done: (err: Error | null) => void) => (() => void) | void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let cleanup: (() => void) | void;
    let settled = false;
    const done = (err: Error | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('close', onClose);
      cleanup?.();
      if (err) reject(err);
      else resolve();
    };
    const onClose = (): void => done(new Error(`socket closed while waiting for ${what}`));
    const timer = deadline
      ? setTimeout(() => {
          deadline.expired();
          done(new Error(`${what} timed out`));
        }, deadline.ms)
      : undefined;
    socket.once('close', onClose);
    cleanup = start(done);
  });
}
