// A peer on 127.0.0.1 that records every request frame and answers as the test scripts it
// (a master's or a chunk server's reply): for in-process tests of the cluster code, and as
// a fake master for real chunk servers.
import { createServer, type Socket } from 'node:net';
import { decodeBody, encodeFrame } from '../../src/wire/codec.js';
import type { Teardown } from './temp.js';

export type Msg = Record<string, any>;

export interface ScriptedPeer {
  readonly address: string;
  readonly port: number;
  readonly got: Msg[];
  /** Commands received, in order. */
  commands(): string[];
}

/**
 * `answer` returns the reply (or a promise of it: a slow peer), null to close without one,
 * or undefined to hang: neither answer nor close, as a stuck master does. One request a
 * connection, as our callers send them.
 */
export async function scriptedPeer(t: Teardown, answer: (msg: Msg) => Msg | null | undefined | Promise<Msg | null | undefined> = () => ({ status: 'ok' })): Promise<ScriptedPeer> {
  const got: Msg[] = [];
  const sockets = new Set<Socket>();
  // Half-open: the caller ends its side once the request is written; the reply still goes back.
  const server = createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    s.on('data', async (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      if (buf.length < 4 || buf.length < 4 + buf.readUInt32BE(0)) return;
      const msg = decodeBody(buf.subarray(4, 4 + buf.readUInt32BE(0))) as Msg;
      buf = Buffer.alloc(0);
      got.push(msg);
      const reply = await answer(msg);
      if (s.destroyed || reply === undefined) return;
      if (reply !== null) for (const p of encodeFrame(reply)) s.write(p as Buffer);
      s.end();
    });
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((res) => server.close(() => res()));
  });
  const port = (server.address() as { port: number }).port;
  return { address: `127.0.0.1:${port}`, port, got, commands: () => got.map((m) => String(m.command)) };
}
