import t, { type Test } from 'tap';
import { call, Client, frame, lengthPrefixed } from '../../support/frames.js';
import { startServer } from '../../support/in-process.js';

async function stillServes(t: Test, port: number): Promise<void> {
  t.same(await call(port, { command: 'check_space', size: 1 }), { status: 'ok' }, 'a new connection still works');
}

t.test('length header 0xFFFFFFFF: bad_request reply, then the connection closes', async (t) => {
  const server = await startServer(t);
  const c = await Client.connect(server.port, t);
  c.write(Buffer.concat([Buffer.from('ffffffff', 'hex'), Buffer.alloc(1000)]));
  const r = await c.next();
  t.same(r, { status: 'error', message: `bad_request: frame too large: ${0xffffffff} bytes, limit ${80 * 1024 * 1024}` });
  await c.closed();
  await stillServes(t, server.port);
});

t.test('max frame size follows max_message_mb', async (t) => {
  const server = await startServer(t, { maxMessageMb: 1 });
  const c = await Client.connect(server.port, t);
  c.send({ command: 'store_chunk', chunk_id: 'big', data: Buffer.alloc(1024 * 1024) });
  t.match(await c.next(), { status: 'error', message: /^bad_request: frame too large: \d+ bytes, limit 1048576$/ });
  await c.closed();
  t.equal(server.store.chunkCount, 0);
});

t.test('garbage bytes that decode to no msgpack: reply then close', async (t) => {
  const server = await startServer(t);
  const c = await Client.connect(server.port, t);
  c.write(lengthPrefixed(Buffer.from('c1c1c1c1', 'hex')));
  t.same(await c.next(), { status: 'error', message: 'bad_request: undecodable body' });
  await c.closed();
  await stillServes(t, server.port);
});

t.test('random garbage stream: reply or close, never a crash', async (t) => {
  const server = await startServer(t);
  const c = await Client.connect(server.port, t);
  c.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
  const r = await c.next();
  t.ok(r === null || r.status === 'error');
  c.close();
  await stillServes(t, server.port);
});

t.test('a truncated frame then a half-close: the server closes without a reply', async (t) => {
  const server = await startServer(t);
  const c = await Client.connect(server.port, t);
  const whole = frame({ command: 'check_space', size: 1 });
  c.write(whole.subarray(0, whole.length - 2));
  c.socket.end();
  t.equal(await c.next(), null);
  await stillServes(t, server.port);
});

t.test('a truncated frame and a vanished client', async (t) => {
  const server = await startServer(t);
  const c = await Client.connect(server.port, t);
  // Handed to the kernel before the client vanishes, so the server reads the partial frame first.
  await new Promise<void>((r) => c.socket.write(lengthPrefixed(Buffer.alloc(100_000)).subarray(0, 70_000), () => r()));
  c.close();
  await stillServes(t, server.port);
});

t.test('bodies that are not maps keep the connection open', async (t) => {
  const server = await startServer(t);
  const c = await Client.connect(server.port, t);
  for (const value of [[1, 2, 3], 'command', 42, null, Buffer.from('x')]) {
    t.same(await c.call(value), { status: 'error', message: 'bad_request: body is not a map' }, JSON.stringify(value));
  }
  c.write(lengthPrefixed(Buffer.alloc(0)));
  t.same(await c.next(), { status: 'error', message: 'bad_request: undecodable body' }, 'an empty body is undecodable');
  await c.closed();
});

t.test('trailing bytes after the map are undecodable', async (t) => {
  const server = await startServer(t);
  const c = await Client.connect(server.port, t);
  const body = Buffer.concat([frame({ command: 'check_space', size: 1 }).subarray(4), Buffer.from([0xc0])]);
  c.write(lengthPrefixed(body));
  t.same(await c.next(), { status: 'error', message: 'bad_request: undecodable body' });
});

t.test('a valid request after a refused one on the same connection', async (t) => {
  const server = await startServer(t);
  const c = await Client.connect(server.port, t);
  t.same(await c.call({ command: 'nope' }), { status: 'error', message: 'unknown_command: nope' });
  t.same(await c.call({ command: '__proto__' }), { status: 'error', message: 'unknown_command: __proto__' });
  t.same(await c.call({ command: 'check_space', size: 1, __proto__: { size: 'x' } }), { status: 'ok' });
});
