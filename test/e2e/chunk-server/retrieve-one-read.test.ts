// Issue 10, item 4: every retrieve reads the chunk file once. The first window is checked
// before the reply header (damage there: a `corrupt_chunk` reply); the rest is checked block
// by block as it streams (damage there: the frame is cut short, never completed with bad
// bytes, and the next retrieve says `corrupt_chunk`). An overwrite committed during a stream
// never yields a complete frame that mixes old and new bytes.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { bytes, flipByte, MIB } from '../../support/data.js';
import { call, Client, type Reply } from '../../support/frames.js';
import { startLoggedServer } from '../../support/in-process.js';
import { spawnServer } from '../../support/processes.js';
import { tempDir } from '../../support/temp.js';
import { chunkFile } from '../../support/chunk-files.js';

/** Bytes a process has read through read(2)-like calls so far (files and sockets alike). */
async function bytesRead(pid: number): Promise<number> {
  return Number(/^rchar:\s+(\d+)$/m.exec(await readFile(`/proc/${pid}/io`, 'utf8'))![1]);
}

/** Sends a retrieve and reads until the server closes: the bytes that came, and the reply if a whole frame came. */
async function retrieveUntilClosed(c: Client, chunkId: string): Promise<{ received: number; reply: Reply | null }> {
  let received = 0;
  c.socket.on('data', (chunk: Buffer) => (received += chunk.length));
  c.send({ command: 'retrieve_chunk', chunk_id: chunkId });
  // null once the server has closed the connection without a whole frame.
  const reply = await c.next();
  return { received, reply };
}

/** Counts what arrives and pauses the socket at its first bytes: the server's stream stalls on back-pressure. */
function pausedAfterFirstBytes(c: Client): { firstBytes: Promise<void>; received: () => number } {
  let received = 0;
  let started!: () => void;
  const firstBytes = new Promise<void>((resolve) => (started = resolve));
  c.socket.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received === chunk.length) {
      c.socket.pause();
      started();
    }
  });
  return { firstBytes, received: () => received };
}

t.test('a retrieve of a multi-MiB chunk reads the chunk file once (the server process reads < 1.5x its size)', async (t) => {
  const dir = await tempDir(t);
  const server = await spawnServer(t, ['--data_dir', 'data', '--no_master', '--space', '256'], dir);
  const pid = server.proc.pid!;
  for (const size of [24 * MIB, 24 * MIB + 12345]) {
    const data = bytes(size, 3);
    t.match(await call(server.port, { command: 'store_chunk', chunk_id: 'big', data }), { status: 'ok' });
    const before = await bytesRead(pid);
    const reply = await call(server.port, { command: 'retrieve_chunk', chunk_id: 'big' });
    const read = (await bytesRead(pid)) - before;
    t.ok(Buffer.from(reply.data).equals(data), `${size} bytes: the whole chunk came back`);
    t.ok(read >= size, `${size} bytes: the server read the chunk (${read} bytes read)`);
    t.ok(read < 1.5 * size, `${size} bytes: ${(read / size).toFixed(2)}x the chunk's size read, not two passes`);
  }
});

t.test('damage inside the first window: a proper corrupt_chunk reply, the connection and the server go on', async (t) => {
  const dir = await tempDir(t);
  const { server } = await startLoggedServer(t, dir, { spaceMb: 64 });
  const data = bytes(8 * MIB, 4);
  await call(server.port, { command: 'store_chunk', chunk_id: 'early', data });
  await call(server.port, { command: 'store_chunk', chunk_id: 'good', data });
  await flipByte(chunkFile(join(dir, 'test1'), 'early'), 300 * 1024 + 5);

  const c = await Client.connect(server.port, t);
  t.same(await c.call({ command: 'retrieve_chunk', chunk_id: 'early' }), { status: 'error', message: 'corrupt_chunk' });
  t.same(server.store.corruptChunks(), ['early'], 'quarantined and to be reported');
  t.same(await c.call({ command: 'retrieve_chunk', chunk_id: 'early' }), { status: 'error', message: 'corrupt_chunk' }, 'asked again on the same connection: still corrupt_chunk');
  const good = await c.call({ command: 'retrieve_chunk', chunk_id: 'good' });
  t.ok(Buffer.from(good.data).equals(data), 'the connection serves the next request');
});

t.test('damage in a late block: the frame is cut short before the bad block, the next retrieve says corrupt_chunk', async (t) => {
  const dir = await tempDir(t);
  const { server, logs } = await startLoggedServer(t, dir, { spaceMb: 64 });
  const size = 8 * MIB;
  const badAt = 6 * MIB + 1000;
  const data = bytes(size, 5);
  await call(server.port, { command: 'store_chunk', chunk_id: 'late', data });
  await call(server.port, { command: 'store_chunk', chunk_id: 'good', data });
  await flipByte(chunkFile(join(dir, 'test1'), 'late'), badAt);

  const { received, reply } = await retrieveUntilClosed(await Client.connect(server.port, t), 'late');
  t.equal(reply, null, 'no complete frame arrived');
  t.ok(received > 0, `the reply had started (${received} bytes)`);
  // The reply's bytes before its payload are a few dozen; the 1 MiB read holding the damage never goes out.
  t.ok(received <= 64 + 6 * MIB, `nothing from the damaged block on was sent (${received} bytes)`);
  t.same(server.store.corruptChunks(), ['late'], 'the chunk is quarantined');
  t.match(logs.find((l) => l.msg === 'corrupt chunk moved to quarantine'), { chunk_id: 'late', found_by: 'retrieve', reason: /block 96 /, level: 50 });

  t.same(await call(server.port, { command: 'retrieve_chunk', chunk_id: 'late' }), { status: 'error', message: 'corrupt_chunk' }, 'the next retrieve says why');
  const good = await call(server.port, { command: 'retrieve_chunk', chunk_id: 'good' });
  t.ok(Buffer.from(good.data).equals(data), 'the server serves other chunks');

  await server.store.acknowledgeCorrupt(['late']);
  t.same(await call(server.port, { command: 'retrieve_chunk', chunk_id: 'late' }), { status: 'error', message: 'chunk_not_found' }, 'once the master knows, the chunk is simply not here');
});

t.test('damage in a block read ahead while the client reads slowly: checked before it is sent, never sent', async (t) => {
  const dir = await tempDir(t);
  const { server } = await startLoggedServer(t, dir, { spaceMb: 64 });
  const size = 16 * MIB;
  // The second block after the first window: read ahead at once, long before its turn.
  const badAt = 2 * MIB + 77;
  await call(server.port, { command: 'store_chunk', chunk_id: 'ahead', data: bytes(size, 8) });
  await flipByte(chunkFile(join(dir, 'test1'), 'ahead'), badAt);

  const c = await Client.connect(server.port, t);
  const reading = pausedAfterFirstBytes(c);
  c.send({ command: 'retrieve_chunk', chunk_id: 'ahead' });
  await reading.firstBytes;
  // Held back until the damaged block has surely been read ahead; then read to the end.
  await new Promise((resolve) => setTimeout(resolve, 200));
  c.socket.resume();
  t.equal(await c.next(), null, 'no complete frame arrived');
  t.ok(reading.received() <= 64 + 2 * MIB, `nothing from the damaged block on was sent (${reading.received()} bytes)`);
  t.same(server.store.corruptChunks(), ['ahead'], 'the chunk is quarantined');
});

t.test('a two-phase append committed under a streaming reply: no complete frame mixes versions, nothing is quarantined', async (t) => {
  const dir = await tempDir(t);
  const { server } = await startLoggedServer(t, dir, { spaceMb: 160 });
  // Larger than what the socket buffers of both ends take (~40 MiB here).
  const size = 64 * MIB;
  const old = bytes(size, 6);
  // At the end: a prepare below it is refused (it would overwrite another producer's record).
  const at = size;
  const patch = bytes(1000, 7);
  const fresh = Buffer.concat([old, patch]);
  await call(server.port, { command: 'store_chunk', chunk_id: 'ow', data: old });

  // The client takes the first bytes and stops reading: the server's stream stalls on
  // back-pressure far before the end of the chunk, where the append lands.
  const c = await Client.connect(server.port, t);
  const reading = pausedAfterFirstBytes(c);
  c.send({ command: 'retrieve_chunk', chunk_id: 'ow' });
  await reading.firstBytes;

  const tx = { chunk_id: 'ow', transaction_id: 'overwrite' };
  t.same(await call(server.port, { command: 'prepare_append', ...tx, data: patch, offset: at }), { status: 'ok', message: 'prepared' });
  t.match(await call(server.port, { command: 'commit_append', ...tx }), { status: 'ok', message: 'committed' });
  c.socket.resume();
  const reply = await c.next();
  if (reply) t.ok(Buffer.from(reply.data).equals(old), 'a complete frame holds the old version whole');
  else t.ok(reading.received() < 4 + size, `the frame was cut short (${reading.received()} bytes)`);
  t.same(server.store.corruptChunks(), [], 'an append is not damage');
  const after = await call(server.port, { command: 'retrieve_chunk', chunk_id: 'ow' });
  t.ok(Buffer.from(after.data).equals(fresh), 'the next retrieve gets the new version whole');
  t.equal(after.version, 2);
});
