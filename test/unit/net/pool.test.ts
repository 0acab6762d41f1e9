// Kept connections (src/net/pool.ts) against real sockets: reuse, a peer that closes after
// each reply, a kept connection that dies while idle, bytes nobody asked for, the idle limit.
import { createServer, type Socket } from 'node:net';
import t from 'tap';
import { joinAddress } from '../../../src/net/address.js';
import { ConnectionPool } from '../../../src/net/pool.js';
import { call, Rpc } from '../../../src/net/rpc.js';
import { BufferPool } from '../../../src/wire/buffer-pool.js';
import { decodeBody } from '../../../src/wire/codec.js';
import { frame } from '../../support/frames.js';
import { waitUntil } from '../../support/waits.js';

type T = { teardown(fn: () => unknown): void };

interface Peer {
  readonly address: string;
  /** Connections accepted so far. */
  accepted: number;
  /** Requests seen so far. */
  requests: number;
  readonly sockets: Set<Socket>;
}

/** A server that answers each framed request with `reply(req, socket)` on the same connection. */
async function peer(t: T, reply: (req: any, socket: Socket, p: Peer) => void): Promise<Peer> {
  const sockets = new Set<Socket>();
  const p = { address: '', accepted: 0, requests: 0, sockets } as Peer;
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    p.accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.on('end', () => socket.end());
    let buf = Buffer.alloc(0);
    socket.on('data', (c) => {
      buf = Buffer.concat([buf, c]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
        const len = buf.readUInt32BE(0);
        p.requests++;
        reply(decodeBody(buf.subarray(4, 4 + len)), socket, p);
        buf = buf.subarray(4 + len);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    return new Promise((r) => server.close(r));
  });
  const a = server.address();
  (p as { address: string }).address = joinAddress('127.0.0.1', typeof a === 'object' && a ? a.port : 0);
  return p;
}

const OPTS = { connectTimeoutMs: 2000, requestTimeoutMs: 5000, maxPerPeer: 2, maxReplyBytes: 1024 * 1024 };
const CALL = { connectTimeoutMs: 2000, idleTimeoutMs: 5000 };

t.test('sequential requests share one connection; concurrent ones at most maxPerPeer', async (t) => {
  const rpc = new Rpc(OPTS);
  t.teardown(() => rpc.close());
  const p = await peer(t, (req, s) => s.write(frame({ status: 'ok', n: req.n })));
  for (let n = 0; n < 30; n++) t.same(await rpc.request(p.address, { command: 'x', n }), { status: 'ok', n });
  t.ok(p.accepted <= 2, `30 requests on ${p.accepted} connection(s)`);
  const replies = await Promise.all(Array.from({ length: 10 }, (_, n) => rpc.request(p.address, { command: 'x', n })));
  t.same(replies.map((r) => r.n), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'each reply to its own request');
  t.ok(p.accepted <= 4, `40 requests on ${p.accepted} connections`);
  t.ok(rpc.connections.size <= 4, 'no more idle than twice what may run at once');
});

t.test('a peer that closes after each reply (the reference) is served a new connection each time, none fails', async (t) => {
  const rpc = new Rpc(OPTS);
  t.teardown(() => rpc.close());
  const p = await peer(t, (req, s) => s.end(frame({ status: 'ok', n: req.n })));
  for (let n = 0; n < 20; n++) t.same(await rpc.request(p.address, { command: 'x', n }), { status: 'ok', n });
  t.equal(p.requests, 20, 'every request reached the peer exactly once');
  await waitUntil('nothing closed is kept', () => rpc.connections.size === 0);
});

t.test('a kept connection the peer drops while idle is not used again; the next request goes through', async (t) => {
  const pool = new ConnectionPool({ maxIdlePerAddress: 4, idleMs: 10_000 });
  t.teardown(() => pool.close());
  const p = await peer(t, (req, s) => s.write(frame({ status: 'ok', n: req.n })));
  const bufs = new BufferPool(0);
  t.same(await call(p.address, { command: 'x', n: 1 }, { ...CALL, connections: pool }, bufs), { status: 'ok', n: 1 });
  await waitUntil('the connection is kept', () => pool.size === 1);
  for (const s of p.sockets) s.destroy();
  await waitUntil('the dropped connection leaves the pool', () => pool.size === 0);
  t.same(await call(p.address, { command: 'x', n: 2 }, { ...CALL, connections: pool }, bufs), { status: 'ok', n: 2 });
  t.equal(p.accepted, 2);
  t.equal(p.requests, 2, 'no request sent twice');
});

t.test('a kept connection closed just as it is taken is retried once on a new one', async (t) => {
  const pool = new ConnectionPool({ maxIdlePerAddress: 4, idleMs: 10_000 });
  t.teardown(() => pool.close());
  // Answers the first request of a connection; on a second, closes without reading it, as a
  // server going idle-closed at that instant would look to the client.
  const p = await peer(t, (req, s) => {
    const seen = ((s as unknown as { seen?: number }).seen ?? 0) + 1;
    (s as unknown as { seen: number }).seen = seen;
    if (seen === 1) s.write(frame({ status: 'ok', n: req.n }));
    else s.destroy();
  });
  const bufs = new BufferPool(0);
  t.same(await call(p.address, { command: 'x', n: 1 }, { ...CALL, connections: pool }, bufs), { status: 'ok', n: 1 });
  await waitUntil('the connection is kept', () => pool.size === 1);
  // A connection given back is handed out from the next turn of the event loop on.
  await new Promise((resolve) => setImmediate(resolve));
  t.same(await call(p.address, { command: 'x', n: 2 }, { ...CALL, connections: pool }, bufs), { status: 'ok', n: 2 }, 'the retry answered');
  t.equal(p.accepted, 2);
  t.same({ reused: pool.reused, opened: pool.opened }, { reused: 1, opened: 2 });
});

t.test('bytes nobody asked for end a kept connection; so does the idle limit', async (t) => {
  const pool = new ConnectionPool({ maxIdlePerAddress: 4, idleMs: 300 });
  t.teardown(() => pool.close());
  const p = await peer(t, (req, s) => {
    s.write(frame({ status: 'ok', n: req.n }));
    if (req.n === 1) setTimeout(() => s.write(frame({ status: 'ok', stray: true })), 50);
  });
  const bufs = new BufferPool(0);
  await call(p.address, { command: 'x', n: 1 }, { ...CALL, connections: pool }, bufs);
  await waitUntil('the stray reply dropped the connection', () => pool.size === 0 && p.sockets.size === 0);
  t.same(await call(p.address, { command: 'x', n: 2 }, { ...CALL, connections: pool }, bufs), { status: 'ok', n: 2 }, 'never the stray reply');
  await waitUntil('the idle limit closes it', () => pool.size === 0 && p.sockets.size === 0);
  t.equal(p.accepted, 2);
});

t.test('a closed pool keeps nothing', async (t) => {
  const pool = new ConnectionPool({ maxIdlePerAddress: 4, idleMs: 10_000 });
  const p = await peer(t, (req, s) => s.write(frame({ status: 'ok', n: req.n })));
  const bufs = new BufferPool(0);
  await call(p.address, { command: 'x', n: 1 }, { ...CALL, connections: pool }, bufs);
  await waitUntil('kept', () => pool.size === 1);
  pool.close();
  t.equal(pool.size, 0);
  await call(p.address, { command: 'x', n: 2 }, { ...CALL, connections: pool }, bufs);
  t.equal(pool.size, 0, 'given back after close: closed at once');
  await waitUntil('the peer sees both closed', () => p.sockets.size === 0);
});
