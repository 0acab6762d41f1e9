import { createServer, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import t from 'tap';
import { startChunkServer } from '../../src/chunk-server.js';
import { backoffMs } from '../../src/cluster/master-client.js';
import { decodeBody } from '../../src/wire/codec.js';
import { freePort, waitFor } from '../support/cluster-helpers.js';
import { bytes, call, frame, MIB, tempDir, testConfig } from '../support/helpers.js';

type T = { teardown(fn: () => unknown): void };

/**
 * A master that behaves as the reference does towards chunk servers: it reads each message,
 * answers nothing, and closes once the sender has closed. It records what it received.
 */
async function referenceMaster(t: T, port = 0): Promise<{ port: number; messages: any[]; close: () => Promise<void> }> {
  const messages: any[] = [];
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    let buf = Buffer.alloc(0);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', (c) => {
      buf = Buffer.concat([buf, c]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
        const m: any = decodeBody(buf.subarray(4, 4 + buf.readUInt32BE(0)));
        messages.push(m);
        buf = buf.subarray(4 + buf.readUInt32BE(0));
        // The one message of a chunk server the reference master answers.
        if (m.command === 'get_replica_locations') socket.write(frame({ status: 'ok', locations: [] }));
      }
    });
    socket.on('end', () => socket.end());
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  const close = (): Promise<void> => {
    for (const s of sockets) s.destroy();
    return new Promise((r) => server.close(() => r()));
  };
  t.teardown(close);
  const a = server.address();
  return { port: typeof a === 'object' && a ? a.port : port, messages, close };
}

function memoryLog(): { log: pino.Logger; lines: () => any[] } {
  const lines: any[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { log: pino({ level: 'info' }, sink), lines: () => lines };
}

t.test('backoff is exponential, capped at the heartbeat interval, and jittered', async (t) => {
  for (let i = 0; i < 50; i++) {
    const first = backoffMs(1, 5000);
    t.ok(first >= 50 && first <= 100, 'first retry within [50, 100] ms');
    const late = backoffMs(20, 5000);
    t.ok(late >= 2500 && late <= 5000, 'capped at the interval, jitter down to half');
  }
  t.ok(backoffMs(3, 5000) <= 400 && backoffMs(3, 5000) >= 200, 'doubles per failure');
});

t.test('register and heartbeats reach a master that never replies, with address, location and space', async (t) => {
  const master = await referenceMaster(t);
  const dir = await tempDir(t);
  const server = await startChunkServer(
    testConfig(dir, { x: 12.5, y: 40, spaceMb: 8, heartbeatIntervalS: 0.1, master: { enabled: true, host: '127.0.0.1', port: master.port, replicationFactor: 3 } }),
    pino({ level: 'silent' }),
  );
  t.teardown(() => server.stop());

  const beats = (): any[] => master.messages.filter((m) => m.command === 'heartbeat');
  await waitFor('two heartbeats', async () => (beats().length >= 2 ? true : undefined));
  t.same(master.messages[0], { command: 'register_chunk_server', address: server.address, location: [12.5, 40] }, 'registers first');
  // chunk_report (our extension, which the reference master ignores): the first beat after registering carries the full list.
  t.same(beats()[0], { command: 'heartbeat', address: server.address, location: [12.5, 40], space_info: { total: 8 * MIB, used: 0 }, chunk_report: [] });
  t.equal(master.messages.filter((m) => m.command === 'register_chunk_server').length, 1, 'registers once while the master stays up');

  // Standalone-style store (the reference master never answers get_replica_locations): the
  // chunk is still stored and the reply comes within the master timeout.
  const data = bytes(300_000);
  t.match(await call(server.port, { command: 'store_chunk', chunk_id: 'c', file_path: '/f', data, replica_servers: true }), { status: 'ok', chunk_id: 'c' });
  await waitFor('used grows by the bytes stored', async () => (beats().at(-1)?.space_info.used === 300_000 ? true : undefined));

  // A primary store: get_replica_locations carries our address and the client's id; the
  // metadata update names the real holders and is sent although no reply ever comes.
  const data2 = bytes(5000, 2);
  t.match(await call(server.port, { command: 'store_chunk', chunk_id: 'p', file_path: '/p', chunk_index: 4, client_id: 'c9', data: data2 }), { status: 'ok', chunk_id: 'p', replicas: 0 });
  t.same(master.messages.find((m) => m.command === 'get_replica_locations'), { command: 'get_replica_locations', excluding: server.address, client_id: 'c9' });
  t.same(master.messages.find((m) => m.command === 'update_file_metadata'), {
    command: 'update_file_metadata',
    file_path: '/p',
    chunk_id: 'p',
    chunk_locations: [server.address],
    chunk_size: 5000,
    pending_replication: true,
    chunk_index: 4,
  });
});

t.test('master down: keeps serving, logs once per change, registers again when it returns', async (t) => {
  const port = await freePort();
  const dir = await tempDir(t);
  const { log, lines } = memoryLog();
  const server = await startChunkServer(
    testConfig(dir, { heartbeatIntervalS: 0.2, logLevel: 'info', master: { enabled: true, host: '127.0.0.1', port, replicationFactor: 3 } }),
    log,
  );
  t.teardown(() => server.stop());
  const msgs = (): string[] => lines().map((l) => l.msg);

  // A second of retries against nothing: still one warning.
  await new Promise((r) => setTimeout(r, 1000));
  t.equal(msgs().filter((m) => m === 'master unreachable; serving without it and retrying').length, 1, 'one warning for the outage');
  const reply = await call(server.port, { command: 'store_chunk', chunk_id: 'a', file_path: '/f', data: bytes(10) });
  t.match(reply, { status: 'ok', chunk_id: 'a', replicas: 0 }, 'primary store works with the master down');
  t.ok(msgs().includes('master unreachable: chunk stored locally, metadata not updated'));
  t.equal((await call(server.port, { command: 'retrieve_chunk', chunk_id: 'a' })).data.length, 10);

  const master = await referenceMaster(t, port);
  await waitFor('registration', async () => (master.messages.some((m) => m.command === 'register_chunk_server') ? true : undefined), 2000);
  t.equal(msgs().filter((m) => m === 'registered with master').length, 1);

  await master.close();
  master.messages.length = 0;
  await new Promise((r) => setTimeout(r, 600));
  const again = await referenceMaster(t, port);
  await waitFor('registered again', async () => (again.messages[0]?.command === 'register_chunk_server' ? true : undefined), 2000);
  await waitFor('log line', async () => (msgs().includes('master is back; registered again') ? true : undefined), 1000);
  t.equal(msgs().filter((m) => m === 'master unreachable; serving without it and retrying').length, 2, 'one warning per outage');
});

t.test('a master that dies between the registration and the heartbeat: the outage is logged', async (t) => {
  const port = await freePort();
  const { log, lines } = memoryLog();
  const dir = await tempDir(t);
  const server = await startChunkServer(
    testConfig(dir, { heartbeatIntervalS: 0.1, master: { enabled: true, host: '127.0.0.1', port, replicationFactor: 3 } }),
    log,
  );
  t.teardown(() => server.stop());
  const messages = (msg: string): any[] => lines().filter((l) => l.msg === msg);
  const OUTAGE = 'master unreachable; serving without it and retrying';
  await waitFor('the first outage', async () => (messages(OUTAGE).length === 1 ? true : undefined));

  // Takes one registration, as the reference master does (no reply), and is gone before the
  // heartbeat that follows it.
  const shortLived = createServer({ allowHalfOpen: true }, (socket) => {
    shortLived.close();
    socket.on('error', () => undefined);
    socket.once('data', () => socket.end());
  });
  await new Promise<void>((r) => shortLived.listen(port, '127.0.0.1', r));
  await waitFor('the registration logged', async () => (messages('registered with master').length === 1 ? true : undefined));
  await waitFor('the master gone again, logged', async () => (messages(OUTAGE).length === 2 ? true : undefined));
  t.match(messages(OUTAGE)[1], { err: /ECONNREFUSED/ });
});
