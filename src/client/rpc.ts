// One request on its own connection, as every reference component sends them. Requests may
// carry FileBody pieces (chunk data streamed from a local file); a reply's large `data`
// value can be handed to a sink as it arrives, so no chunk-sized buffer is ever built.
import { connect, type Socket } from 'node:net';
import { BufferPool } from '../wire/buffer-pool.js';
import { signedFrame, type Credential } from '../auth/signer.js';
import { decodeBody, encodeFrame, type Piece } from '../wire/codec.js';
import { FrameDecoder, type DecodedFrame } from '../wire/frame-decoder.js';
import type { SpillProvider } from '../wire/spill.js';
import { PeerFailure } from './errors.js';

export type Reply = Record<string, unknown>;

// A retrieve reply is a 64 MB chunk and its fields; anything beyond this is not one of ours.
const MAX_REPLY_BYTES = 1024 * 1024 * 1024;
// Replies at least this large are walked as they arrive and their `data` goes to the sink.
const STREAM_REPLY_MIN_BYTES = 64 * 1024;
// The socket is paused while the sink holds more than this, resumed below the low mark.
const SINK_HIGH_BYTES = 8 * 1024 * 1024;
const SINK_LOW_BYTES = 2 * 1024 * 1024;

export interface CallOptions {
  /** Longest silence (no byte sent or received) before the call fails. */
  readonly idleTimeoutMs: number;
  readonly connectTimeoutMs: number;
  /** Receives the reply's large bin values (`data` of retrieve_chunk). */
  readonly sink?: SpillProvider;
  /** Signs every request with this client key (servers under `client_auth`, PROTOCOL.md section 7). */
  readonly credential?: Credential;
}

export function parseAddress(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  const port = Number(address.slice(at + 1));
  if (at <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`not a HOST:PORT address: ${address}`);
  return { host: address.slice(0, at), port };
}

function writeBlock(socket: Socket, block: Buffer): Promise<void> {
  // The callback fires once the bytes left our hands, so the caller may reuse `block`.
  return new Promise((resolve, reject) => socket.write(block, (err) => (err ? reject(err) : resolve())));
}

async function writePieces(socket: Socket, pieces: Piece[]): Promise<void> {
  for (const piece of pieces) {
    if (Buffer.isBuffer(piece)) await writeBlock(socket, piece);
    else await piece.pipe((block) => writeBlock(socket, block));
  }
}

async function closePieces(pieces: Piece[]): Promise<void> {
  for (const piece of pieces) if (!Buffer.isBuffer(piece)) await piece.close();
}

async function toReply(frame: DecodedFrame, address: string): Promise<Reply> {
  if (frame.kind === 'frame') {
    try {
      return decodeBody(frame.body) as Reply;
    } finally {
      frame.lease?.release();
    }
  }
  if (frame.kind === 'streamed') {
    const reply = decodeBody(frame.skeleton) as Reply;
    for (const spill of frame.spills) reply[spill.key] = await spill.target.finish();
    return reply;
  }
  if (frame.kind === 'oversize') throw new PeerFailure(address, 'down', `reply of ${frame.length} bytes is too large`);
  throw new PeerFailure(address, 'down', `unusable reply: ${frame.why}`);
}

/**
 * Sends `body` to `address` and resolves with the decoded reply. Fails with a PeerFailure of
 * kind 'down' when no whole reply arrives; error replies are returned, not thrown.
 */
export function call(address: string, body: Reply, opts: CallOptions, pool: BufferPool): Promise<Reply> {
  let host: string;
  let port: number;
  try {
    ({ host, port } = parseAddress(address));
  } catch (err) {
    return Promise.reject(new PeerFailure(address, 'down', (err as Error).message));
  }
  const pieces = opts.credential ? signedFrame(body, opts.credential) : encodeFrame(body);
  return new Promise<Reply>((resolve, reject) => {
    const decoder = new FrameDecoder(MAX_REPLY_BYTES, pool, opts.sink ? { spill: opts.sink, minFrameBytes: STREAM_REPLY_MIN_BYTES } : null);
    const socket = connect({ host, port, noDelay: true, allowHalfOpen: true });
    let settled = false;
    // Once the whole reply is in, the peer closing its side is expected, not a failure.
    let replied = false;
    const finish = (err: Error | null, reply?: Reply): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      if (err) decoder.dispose();
      void closePieces(pieces);
      if (err) reject(err instanceof PeerFailure ? err : new PeerFailure(address, 'down', err.message));
      else resolve(reply as Reply);
    };
    socket.setTimeout(opts.connectTimeoutMs, () => finish(new Error(`no answer within ${socket.connecting ? opts.connectTimeoutMs : opts.idleTimeoutMs} ms`)));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!replied) finish(new Error(err.code === 'ECONNREFUSED' ? 'connection refused' : err.message));
    });
    socket.once('close', () => {
      if (!replied) finish(new Error('connection closed before the reply'));
    });
    socket.once('connect', () => {
      socket.setTimeout(opts.idleTimeoutMs);
      writePieces(socket, pieces).catch((err: Error) => finish(err));
    });
    socket.on('data', (chunk: Buffer) => {
      const out: DecodedFrame[] = [];
      decoder.push(chunk, out);
      const frame = out[0];
      if (frame) {
        replied = true;
        socket.setTimeout(0);
        socket.pause();
        toReply(frame, address).then((r) => finish(null, r), (err: Error) => finish(err));
        return;
      }
      const spill = decoder.activeSpill;
      if (spill && spill.backlogBytes > SINK_HIGH_BYTES) {
        socket.pause();
        void spill.drained(SINK_LOW_BYTES).then(() => socket.resume());
      }
    });
  });
}
