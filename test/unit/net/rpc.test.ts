import { createServer, type Server, type Socket } from 'node:net';
import t from 'tap';
import { joinAddress } from '../../../src/net/address.js';
import { ExchangeError } from '../../../src/net/exchange.js';
import { call, Rpc } from '../../../src/net/rpc.js';
import { BufferPool } from '../../../src/wire/buffer-pool.js';
import { PeerError } from '../../../src/net/peer-errors.js';
import { decodeBody } from '../../../src/wire/codec.js';
import { freePort } from '../../support/configs.js';
import { frame } from '../../support/frames.js';

type T = { teardown(fn: () => unknown): void };

const OPTS = { connectTimeoutMs: 1000, requestTimeoutMs: 2000, maxPerPeer: 2, maxReplyBytes: 1024 * 1024 };

/** A TCP server whose behaviour per connection is `onRequest` (given each decoded request). */
async function peer(t: T, onRequest: (req: any, socket: Socket) => void, host = '127.0.0.1'): Promise<{ address: string; server: Server }> {
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buf = Buffer.alloc(0);
    socket.on('error', () => undefined);
    socket.on('data', (c) => {
      buf = Buffer.concat([buf, c]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
        const len = buf.readUInt32BE(0);
        onRequest(decodeBody(buf.subarray(4, 4 + len)), socket);
        buf = buf.subarray(4 + len);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    return new Promise((r) => server.close(r));
  });
  const a = server.address();
  return { address: joinAddress(host, typeof a === 'object' && a ? a.port : 0), server };
}

async function rejectsPeer(t: any, p: Promise<unknown>, pattern: RegExp, what: string): Promise<void> {
  try {
    await p;
    t.fail(`${what}: resolved`);
  } catch (err) {
    t.ok(err instanceof PeerError, `${what}: a PeerError`);
    t.match((err as Error).message, pattern, what);
  }
}

t.test('a reply comes back; refused, silent, closing and oversized peers become PeerErrors within bounds', async (t) => {
  const rpc = new Rpc({ ...OPTS, requestTimeoutMs: 5000, maxReplyBytes: 100 });
  const echo = await peer(t, (req, s) => s.end(frame({ status: 'ok', got: req.command })));
  t.same(await rpc.request(echo.address, { command: 'ping' }), { status: 'ok', got: 'ping' });

  await rejectsPeer(t, rpc.request(`127.0.0.1:${await freePort()}`, { command: 'x' }), /ECONNREFUSED/, 'nobody listening');

  const silent = await peer(t, () => undefined);
  const started = Date.now();
  await rejectsPeer(t, rpc.request(silent.address, { command: 'x' }, 300), /no reply within 300 ms/, 'never answers');
  // The message names the per-call 300 ms, not the 5 s default; and it did wait that long.
  t.ok(Date.now() - started >= 250, 'waited for the deadline');

  const closer = await peer(t, (_req, s) => s.end());
  await rejectsPeer(t, rpc.request(closer.address, { command: 'x' }), /closed without a reply/, 'closes without answering');

  const big = await peer(t, (_req, s) => s.end(frame({ status: 'ok', data: Buffer.alloc(1000) })));
  await rejectsPeer(t, rpc.request(big.address, { command: 'x' }), /over the limit/, 'reply too large');

  const junk = await peer(t, (_req, s) => s.end(Buffer.from('0000000105', 'hex')));
  await rejectsPeer(t, rpc.request(junk.address, { command: 'x' }), /not a map/, 'reply not a map');
});

t.test('notify works with peers that answer and with peers that only close (the reference master)', async (t) => {
  const rpc = new Rpc({ ...OPTS, requestTimeoutMs: 5000 });
  const seen: string[] = [];
  // The reference master: reads the message, answers nothing, closes when the sender closes.
  const reference = await peer(t, (req, s) => {
    seen.push(req.command);
    s.on('end', () => s.end());
  });
  t.equal(await rpc.notify(reference.address, { command: 'heartbeat' }), null);
  const answering = await peer(t, (_req, s) => s.end(frame({ status: 'ok' })));
  t.same(await rpc.notify(answering.address, { command: 'heartbeat' }), { status: 'ok' });
  // Neither answers nor closes: the message was delivered, which is all the reference promises.
  const mute = await peer(t, () => undefined);
  t.equal(await rpc.notify(mute.address, { command: 'heartbeat' }, 1000), null);
  t.same(seen, ['heartbeat']);
});

t.test('at most maxPerPeer exchanges run against one peer; a queued one gives up at its deadline', async (t) => {
  const rpc = new Rpc({ ...OPTS, requestTimeoutMs: 10_000, maxPerPeer: 2 });
  let open = 0;
  let peak = 0;
  const slow = await peer(t, (_req, s) => {
    open++;
    peak = Math.max(peak, open);
    setTimeout(() => {
      open--;
      s.end(frame({ status: 'ok' }));
    }, 100);
  });
  const replies = await Promise.all(Array.from({ length: 6 }, () => rpc.request(slow.address, { command: 'x' })));
  t.equal(replies.length, 6);
  t.equal(peak, 2, 'never more than two at once');

  const stuck = await peer(t, () => undefined);
  const a = rpc.request(stuck.address, { command: 'x' }, 1500).catch((e) => e);
  const b = rpc.request(stuck.address, { command: 'x' }, 1500).catch((e) => e);
  const queued = rpc.request(stuck.address, { command: 'x' }, 100).catch((e) => e);
  t.match((await queued).message, /no free connection slot within 100 ms/);
  t.match((await a).message, /no reply/);
  t.match((await b).message, /no reply/);
});

t.test("call, the client library's caller: its own words for failures, and bracketed IPv6 addresses", async (t) => {
  const pool = new BufferPool(0);
  const opts = { connectTimeoutMs: 1000, idleTimeoutMs: 300 };
  const echo = await peer(t, (req, s) => s.end(frame({ status: 'ok', got: req.command })));
  t.same(await call(echo.address, { command: 'ping' }, opts, pool), { status: 'ok', got: 'ping' });

  const closed = `127.0.0.1:${await freePort()}`;
  await rejectsPeer(t, call(closed, { command: 'x' }, opts, pool), new RegExp(`^${closed}: connection refused$`), 'nobody listening');
  const silent = await peer(t, () => undefined);
  await rejectsPeer(t, call(silent.address, { command: 'x' }, opts, pool), /: no answer within 300 ms$/, 'never answers');
  await rejectsPeer(t, call('nohost', { command: 'x' }, opts, pool), /^nohost: not a HOST:PORT address: nohost$/, 'not an address');

  const v6 = await peer(t, (req, s) => s.end(frame({ status: 'ok', got: req.command })), '::1');
  t.match(v6.address, /^\[::1\]:\d+$/);
  t.same(await call(v6.address, { command: 'ping' }, opts, pool), { status: 'ok', got: 'ping' });
  t.same(await new Rpc(OPTS).request(v6.address, { command: 'ping' }), { status: 'ok', got: 'ping' });
});


t.test("call: a peer that hangs up or speaks another protocol fails at once, with the reason for callers to branch on", async (t) => {
  const pool = new BufferPool(0);
  // A silence limit far beyond the test: each failure below must come from the peer, not the clock.
  const opts = { connectTimeoutMs: 1000, idleTimeoutMs: 600_000 };
  const reason = async (p: Promise<unknown>): Promise<string> => {
    const err = await p.then(() => null, (e: unknown) => e);
    return err instanceof ExchangeError ? err.failure.reason : `not an ExchangeError: ${String(err)}`;
  };
  const ender = await peer(t, (_req, s) => s.end());
  t.equal(await reason(call(ender.address, { command: 'x' }, opts, pool)), 'ended', 'closed without a reply');
  await rejectsPeer(t, call(ender.address, { command: 'x' }, opts, pool), /: connection closed before the reply$/, 'its words');

  // The prefix says 0x20000 bytes follow, but the body starts with a number, and nothing more comes.
  const stranger = await peer(t, (_req, s) => s.write(Buffer.from('0002000005', 'hex')));
  t.equal(await reason(call(stranger.address, { command: 'x' }, opts, pool)), 'not-a-map', 'told by the first body byte');
  await rejectsPeer(t, call(stranger.address, { command: 'x' }, opts, pool), /: reply is not a msgpack map$/, 'its words');

  const statusless = await peer(t, (_req, s) => s.end(frame({ a: 1 })));
  await rejectsPeer(t, call(statusless.address, { command: 'x' }, opts, pool), /: reply is not a map with a status$/, 'a map without status');

  const silent = await peer(t, () => undefined);
  const started = Date.now();
  await rejectsPeer(t, call(silent.address, { command: 'x' }, { ...opts, deadlineMs: 300 }, pool), /: no answer within 300 ms$/, 'the deadline');
  t.ok(Date.now() - started >= 250, 'waited for the deadline');
});
