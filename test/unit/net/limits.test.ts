import t from 'tap';
import { bytes } from '../../support/data.js';
import { call, Client, frame } from '../../support/frames.js';
import { startServer } from '../../support/in-process.js';
import { waitFor } from '../../support/waits.js';

t.test('2,000 connections at once: the ones over the limit are refused, then all is normal', async (t) => {
  const server = await startServer(t, { maxConnections: 1024 });
  const clients = await Promise.all(Array.from({ length: 2000 }, () => Client.connect(server.port)));
  t.teardown(() => clients.forEach((c) => c.close()));
  // Every connection is accepted by the kernel; the server answers the ones over its limit
  // and closes them.
  await waitFor('the connections over the limit closed', async () => (clients.filter((c) => c.ended).length >= 2000 - 1024 ? true : undefined), 60_000);
  const refused = clients.filter((c) => c.ended);
  for (const c of refused) t.same(await c.next(), { status: 'error', message: 'too_many_connections' });
  const served = clients.filter((c) => !refused.includes(c));
  const answers = await Promise.all(served.map((c) => c.call({ command: 'check_space', size: 1 }).catch((err: Error) => err.message)));
  t.equal(answers.filter((a) => typeof a === 'object' && a.status === 'ok').length, 1024, 'every connection within the limit is served');
  t.equal(clients.filter((c) => c.ended).length, 2000 - 1024, 'exactly the connections over the limit were refused');
  clients.forEach((c) => c.close());
  // The server counts the closes as it sees them: a new connection is served once it has.
  await waitFor('a new connection served', async () => ((await call(server.port, { command: 'check_space', size: 1 })).status === 'ok' ? true : undefined), 60_000);
  t.match(await call(server.port, { command: 'store_chunk', chunk_id: 'after', data: bytes(5000) }), { status: 'ok', chunk_id: 'after', replicas: 0 });
  const back = await call(server.port, { command: 'retrieve_chunk', chunk_id: 'after' });
  t.ok(Buffer.from(back.data).equals(bytes(5000)));
});

t.test('a client sending one byte per second is disconnected after frame_timeout_s', async (t) => {
  const server = await startServer(t, { frameTimeoutS: 1.5 });
  const c = await Client.connect(server.port, t);
  const whole = frame({ command: 'check_space', size: 1 });
  const started = Date.now();
  let sent = 0;
  const timer = setInterval(() => {
    if (c.ended || sent >= whole.length - 1) return;
    c.write(whole.subarray(sent, sent + 1));
    sent++;
  }, 1000);
  t.teardown(() => clearInterval(timer));
  c.write(whole.subarray(0, 1));
  sent = 1;
  t.same(await c.next(), { status: 'error', message: 'bad_request: frame timeout: incomplete after 1.5 s' });
  await c.closed();
  const elapsed = Date.now() - started;
  // A lower bound only: not cut off before frame_timeout_s.
  t.ok(elapsed >= 1400, `closed after ${elapsed} ms`);
  t.same(await call(server.port, { command: 'check_space', size: 1 }), { status: 'ok' });
});

t.test('whole frames keep resetting the frame clock; a pipelining client is not cut off', async (t) => {
  const server = await startServer(t, { frameTimeoutS: 0.6 });
  const c = await Client.connect(server.port, t);
  const whole = frame({ command: 'check_space', size: 1 });
  // Each read ends one frame and starts the next, for longer than one frame timeout.
  c.write(whole.subarray(0, 3));
  for (let i = 0; i < 6; i++) {
    await new Promise((r) => setTimeout(r, 200));
    c.write(Buffer.concat([whole.subarray(3), whole.subarray(0, 3)]));
    t.same(await c.next(), { status: 'ok' });
  }
  c.write(whole.subarray(3));
  t.same(await c.next(), { status: 'ok' });
});

t.test('idle connections are closed after idle_timeout_s; busy ones are not', async (t) => {
  const server = await startServer(t, { idleTimeoutS: 2 });
  const idle = await Client.connect(server.port, t);
  const busy = await Client.connect(server.port, t);
  const started = Date.now();
  let idleClosedAfter = -1;
  void idle.closed().then(() => (idleClosedAfter = Date.now() - started));
  // Busy: a request every 100 ms, far more often than the 2 s idle limit, until the idle one is closed.
  let calls = 0;
  while (idleClosedAfter < 0) {
    t.same(await busy.call({ command: 'check_space', size: calls++ }), { status: 'ok' });
    await new Promise((r) => setTimeout(r, 100));
  }
  t.equal(busy.ended, false, 'the busy connection is still open');
  t.ok(idleClosedAfter >= 1900, `the idle connection was closed after ${idleClosedAfter} ms, not before the idle limit`);
});
