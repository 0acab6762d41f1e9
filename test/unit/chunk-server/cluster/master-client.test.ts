import { createServer, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import t from 'tap';
import { startChunkServer } from '../../../../src/chunk-server/main.js';
import { backoffMs } from '../../../../src/chunk-server/cluster/master-client.js';
import { decodeBody } from '../../../../src/wire/codec.js';
import { charge } from '../../../../src/storage/index.js';
import { freePort } from '../../../support/configs.js';
import { bytes, MIB } from '../../../support/data.js';
import { call, frame } from '../../../support/frames.js';
import { testConfig } from '../../../support/in-process.js';
import { tempDir } from '../../../support/temp.js';
import { waitFor } from '../../../support/waits.js';

type T = { teardown(fn: () => unknown): void };

/** What a scripted master does with one message: `null` answers nothing (as the reference master does), `'drop'` resets the connection. */
type Script = (m: any) => Record<string, unknown> | null | 'drop';

/** As the reference master: no reply to a chunk server, except to get_replica_locations. */
const REFERENCE: Script = (m) => (m.command === 'get_replica_locations' ? { status: 'ok', locations: [] } : null);

/**
 * A master whose answers the test scripts (and may change while it runs): it reads each
 * message, records it, answers as `script` says, and closes once the sender has closed.
 */
async function scriptedMaster(
  t: T,
  port = 0,
  initial: Script = REFERENCE,
): Promise<{ port: number; messages: any[]; connections: () => number; script: Script; unlisten: () => void; close: () => Promise<void> }> {
  const messages: any[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const self = {
    port,
    messages,
    connections: () => connections,
    script: initial,
    /** Refuses new connections from now on; those accepted finish as scripted. */
    unlisten: (): void => void server.close(),
    close: (): Promise<void> => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    connections++;
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
        const answer = self.script(m);
        if (answer === 'drop') return void socket.resetAndDestroy();
        if (answer !== null) socket.write(frame(answer));
      }
    });
    socket.on('end', () => socket.end());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  let closed = false;
  t.teardown(() => (closed ? undefined : self.close()));
  const inner = self.close;
  self.close = () => {
    closed = true;
    return inner();
  };
  const a = server.address();
  self.port = typeof a === 'object' && a ? a.port : port;
  return self;
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
  const master = await scriptedMaster(t);
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
  await waitFor('used grows by the charge of the bytes stored', async () => (beats().at(-1)?.space_info.used === charge(300_000) ? true : undefined));

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

const OUTAGE = 'master unreachable; serving without it and retrying';

/** A chunk server beating every 0.1 s towards a port where no master listens yet, once it has logged that outage. */
async function serverInOutage(t: T): Promise<{ port: number; messages: (msg: string) => any[] }> {
  const port = await freePort();
  const { log, lines } = memoryLog();
  const dir = await tempDir(t);
  const server = await startChunkServer(
    testConfig(dir, { heartbeatIntervalS: 0.1, master: { enabled: true, host: '127.0.0.1', port, replicationFactor: 3 } }),
    log,
  );
  t.teardown(() => server.stop());
  const messages = (msg: string): any[] => lines().filter((l) => l.msg === msg);
  await waitFor('the first outage', async () => (messages(OUTAGE).length === 1 ? true : undefined));
  return { port, messages };
}

t.test('master down: keeps serving, logs once per outage, registers again when it returns', async (t) => {
  const port = await freePort();
  const dir = await tempDir(t);
  const { log, lines } = memoryLog();
  const server = await startChunkServer(
    testConfig(dir, { heartbeatIntervalS: 0.2, logLevel: 'info', master: { enabled: true, host: '127.0.0.1', port, replicationFactor: 3 } }),
    log,
  );
  t.teardown(() => server.stop());
  const msgs = (): string[] => lines().map((l) => l.msg);
  const outages = (): number => msgs().filter((m) => m === OUTAGE).length;

  // Nothing listens: refused connections. Then a master that resets every connection: each
  // retry fails again, and the log still says one outage.
  await waitFor('the outage logged', async () => (outages() === 1 ? true : undefined));
  const master = await scriptedMaster(t, port, () => 'drop');
  await waitFor('five more failed rounds', async () => (master.connections() >= 5 ? true : undefined));
  t.equal(outages(), 1, 'one warning for the outage, not one per failed round');
  const reply = await call(server.port, { command: 'store_chunk', chunk_id: 'a', file_path: '/f', data: bytes(10) });
  t.match(reply, { status: 'ok', chunk_id: 'a', replicas: 0 }, 'primary store works with the master down');
  t.ok(msgs().includes('master unreachable: chunk stored locally, metadata not updated'));
  t.equal((await call(server.port, { command: 'retrieve_chunk', chunk_id: 'a' })).data.length, 10);

  master.messages.length = 0;
  master.script = REFERENCE;
  await waitFor('registered', async () => (msgs().includes('registered with master') ? true : undefined));
  t.equal(master.messages.filter((m) => m.command === 'register_chunk_server').length, 1, 'one registration once the master answers');
  t.equal(outages(), 1);

  master.script = () => 'drop';
  await waitFor('the second outage logged', async () => (outages() === 2 ? true : undefined));
  master.messages.length = 0;
  master.script = REFERENCE;
  await waitFor('registered again', async () => (msgs().includes('master is back; registered again') ? true : undefined));
  t.equal(master.messages[0]?.command, 'register_chunk_server', 'registers again before beating: a returning master may have forgotten it');
  t.equal(outages(), 2, 'one warning per outage');
  t.equal(msgs().filter((m) => m === 'registered with master').length, 1);
});

t.test('a master that takes the registration but refuses every heartbeat stays one outage, then a real one is logged', async (t) => {
  const { port, messages } = await serverInOutage(t);

  // Registrations pass silently, as the reference master's do; heartbeats get an error reply.
  const picky = await scriptedMaster(t, port, (m) => (m.command === 'heartbeat' ? { status: 'error', message: 'not today' } : null));
  const refusedBeats = (): number => picky.messages.filter((m) => m.command === 'heartbeat').length;
  await waitFor('several refused heartbeats', async () => (refusedBeats() >= 3 ? true : undefined));
  t.equal(messages(OUTAGE).length, 1, 'one outage, not one per refused round');
  t.same(messages('registered with master'), [], 'not announced as registered while beats are refused');
  t.ok(picky.messages.filter((m) => m.command === 'register_chunk_server').length >= 3, 'registers again before each retried beat');

  picky.script = REFERENCE;
  await waitFor('registered', async () => (messages('registered with master').length === 1 ? true : undefined));
  await picky.close();
  await waitFor('the next outage logged', async () => (messages(OUTAGE).length === 2 ? true : undefined));
  t.match(messages(OUTAGE)[0], { err: /ECONNREFUSED/ });
  t.match(messages(OUTAGE)[1], { err: /ECONNREFUSED|ECONNRESET|closed/ });
});

t.test('a master that takes the registration and is gone before the heartbeat: still the same outage, registered once a whole round is taken', async (t) => {
  const { port, messages } = await serverInOutage(t);

  // Takes one registration (no reply, as the reference) and stops listening before the beat.
  const shortLived = await scriptedMaster(t, port, (m) => {
    if (m.command !== 'register_chunk_server') return 'drop';
    shortLived.unlisten();
    return null;
  });
  await waitFor('the registration taken', async () => (shortLived.messages.some((m) => m.command === 'register_chunk_server') ? true : undefined));
  const back = await waitFor('a master on the port again', async () => {
    try {
      return await scriptedMaster(t, port);
    } catch {
      return undefined;
    }
  });
  await waitFor('registered', async () => (messages('registered with master').length === 1 ? true : undefined));
  t.equal(back.messages[0]?.command, 'register_chunk_server', 'the beat that failed undid the registration: it registers again');
  t.equal(messages(OUTAGE).length, 1, 'the registration alone did not end the outage, so its failed beat logged no new one');
  t.same(messages('master is back; registered again'), [], 'never announced before that round');
});

t.test('a master named in both --master and other_masters does not hide the masters listed after it', async (t) => {
  const dead = await freePort();
  const alsoDead = await freePort();
  const live = await scriptedMaster(t);
  const dir = await tempDir(t);
  const { log } = memoryLog();
  const server = await startChunkServer(
    testConfig(dir, {
      heartbeatIntervalS: 0.1,
      master: { enabled: true, host: '127.0.0.1', port: dead, replicationFactor: 3 },
      otherMasters: [`127.0.0.1:${dead}`, `127.0.0.1:${alsoDead}`, `127.0.0.1:${live.port}`],
    }),
    log,
  );
  t.teardown(() => server.stop());
  await waitFor('the registration reaching the third master listed', async () =>
    live.messages.some((m) => m.command === 'register_chunk_server') ? true : undefined,
  );
  t.pass('registered with the live master');
});

t.test('while a master answers not_leader (an election), retries stay close instead of backing off to the heartbeat interval', async (t) => {
  // A standby during an election: it names no leader yet. Backing off toward the 60 s interval,
  // 15 attempts would take minutes; at the election's pace they take seconds.
  const standby = await scriptedMaster(t, 0, () => ({ status: 'error', message: 'not_leader', leader: null }));
  const dir = await tempDir(t);
  const server = await startChunkServer(
    testConfig(dir, { heartbeatIntervalS: 60, master: { enabled: true, host: '127.0.0.1', port: standby.port, replicationFactor: 3 } }),
    pino({ level: 'silent' }),
  );
  t.teardown(() => server.stop());
  const registers = (): number => standby.messages.filter((m) => m.command === 'register_chunk_server').length;
  await waitFor('15 registrations tried on the standby', () => (registers() >= 15 ? true : undefined), 60_000);
  t.pass('the server kept asking at the election\'s pace');

  standby.script = REFERENCE;
  await waitFor('a heartbeat once the master leads', () => (standby.messages.some((m) => m.command === 'heartbeat') ? true : undefined), 30_000);
  t.pass('registered and beat soon after the election, not a heartbeat interval later');
});
