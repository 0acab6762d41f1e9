// Issue 21 item 3: the console's event streams cannot be used to exhaust the master. Streams
// past [master] console_max_streams get 503; a stream that does not read is closed once its
// buffer passes its bound, so the master's memory stays bounded while the state keeps
// changing; a state event does not grow with the registered clients. Real master processes.
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { freePort, masterToml, writeToml } from '../../support/configs.js';
import { Client } from '../../support/frames.js';
import { spawnMaster, type ChildServer } from '../../support/processes.js';
import { tempDir, type Teardown } from '../../support/temp.js';
import { waitFor } from '../../support/waits.js';

const MIB = 1024 * 1024;
const MAX_STREAMS = 32; // [master] console_max_streams' default

function rssBytes(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
}

/** GET /api/events on a raw socket: resolves with the socket and the first bytes the master sent. */
function openStream(t: Teardown, port: number): Promise<{ socket: Socket; head: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => socket.write(`GET /api/events HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\n\r\n`));
    t.teardown(() => socket.destroy());
    socket.once('error', reject);
    // Closed before any byte: refused at the connection cap, which a test must see, not hang on.
    socket.once('close', () => reject(new Error('closed before an answer')));
    socket.once('data', (first: Buffer) => {
      // From here on nothing is read: the socket's buffer fills and the master's must not.
      socket.pause();
      socket.on('error', () => undefined);
      resolve({ socket, head: first.toString('latin1') });
    });
  });
}

/** A master with its console on a free port, and a namespace of `files` files with long names. */
async function master(t: Teardown, files: number): Promise<{ m: ChildServer; web: number }> {
  const dir = await tempDir(t, 'console-streams-');
  const meta: Record<string, unknown> = {};
  for (let i = 0; i < files; i++) {
    const path = `/${'long-directory-name/'.repeat(49)}file-${i}`;
    meta[path] = { file_path: path, total_size: 0, chunk_ids: [] };
  }
  await writeFile(join(dir, 'meta.json'), JSON.stringify(meta));
  const web = await freePort();
  const config = await writeToml(dir, 'm.toml', masterToml({ extra: 'client_timeout = 600\n' }));
  const m = await spawnMaster(t, ['--config', config, '--port', '0', '--metadata', 'meta.json', '--http_port', String(web)], dir);
  return { m, web };
}

t.test('100 event streams that never read: 503 past the cap, slow readers dropped, RSS bounded, the master answers', async (t) => {
  const { m, web } = await master(t, 600);
  const tcp = await Client.connect(m.port, t);
  const asker = await Client.connect(m.port, t);
  t.equal((await asker.call({ command: 'list_files' })).files.length, 600);
  const before = rssBytes(m.proc.pid!);

  const streams = [];
  for (let i = 0; i < 100; i++) streams.push(await openStream(t, web));
  const status = streams.map((s) => /^HTTP\/1\.1 (\d+)/.exec(s.head)?.[1]);
  t.equal(status.filter((s) => s === '200').length, MAX_STREAMS, `${MAX_STREAMS} streams open`);
  t.equal(status.filter((s) => s === '503').length, 100 - MAX_STREAMS, 'the rest answered 503');
  t.match(streams.find((s) => s.head.startsWith('HTTP/1.1 503'))!.head, /too_many_streams/);
  // The refused ones are answered; closing them keeps the probe below within the connection cap.
  for (const s of streams) if (s.head.startsWith('HTTP/1.1 503')) s.socket.destroy();

  // Every registration changes the state, so every stream is sent a new event each check.
  let n = 0;
  let peak = 0;
  const changing = setInterval(() => {
    // Long ids: the page's list of (up to 200) clients makes each event about 50 KiB, as the
    // state no longer carries files.
    tcp.send({ command: 'register_client', client_id: `churn-${n++}-${'x'.repeat(240)}`, location: [n % 100, 50] });
    peak = Math.max(peak, rssBytes(m.proc.pid!));
  }, 100);
  t.teardown(() => clearInterval(changing));
  // The master closes streams whose reader is too slow; once it has closed them all, as many
  // new streams are taken again.
  await waitFor(`all ${MAX_STREAMS} non-reading streams dropped`, async () => {
    const fresh = [];
    for (let i = 0; i < MAX_STREAMS; i++) fresh.push(await openStream(t, web).catch(() => undefined));
    if (fresh.includes(undefined)) return undefined;
    for (const s of fresh) s!.socket.destroy();
    return fresh.every((s) => s!.head.startsWith('HTTP/1.1 200')) ? true : undefined;
  }, 180_000, 1000);
  clearInterval(changing);
  const list = await asker.call({ command: 'list_files' });
  t.equal(list.files.length, 600, 'the master answers list_files');
  const grown = peak - before;
  t.ok(grown < 256 * MIB, `peak RSS grew ${(grown / MIB).toFixed(0)} MiB (< 256 MiB) over ${n} state changes`);
  t.ok(n > 10, 'the state changed throughout');
});

t.test('10,000 registered clients and 20 streams: heartbeats answered, a state event stays small', async (t) => {
  const { m, web } = await master(t, 10);
  const tcp = await Client.connect(m.port, t);
  const CLIENTS = 10_000;
  // Ids near the 256-byte bound: all of them would be 2.5 MB in every event.
  const id = (i: number): string => `${'c'.repeat(240)}${String(i).padStart(6, '0')}`;
  for (let i = 0; i < CLIENTS; i++) tcp.send({ command: 'register_client', client_id: id(i), location: [i % 100, (i / 100) % 100] });
  let ok = 0;
  for (let i = 0; i < CLIENTS; i++) if ((await tcp.next())?.status === 'ok') ok++;
  t.equal(ok, CLIENTS, 'every registration taken');

  const readers: Array<{ socket: Socket; text: () => string }> = [];
  for (let i = 0; i < 20; i++) {
    const socket = connect({ host: '127.0.0.1', port: web }, () => socket.write(`GET /api/events HTTP/1.1\r\nhost: 127.0.0.1:${web}\r\n\r\n`));
    t.teardown(() => socket.destroy());
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString('utf8')));
    readers.push({ socket, text: () => text });
  }
  const event = await waitFor('a whole state event on the last stream', () => {
    const m = /event: state\ndata: (.*)\n\n/.exec(readers[19]!.text());
    return m?.[1];
  });
  const state = JSON.parse(event);
  t.equal(state.totals.clients, CLIENTS, 'the count covers every client');
  t.ok(state.clients.length <= 200, `the map lists ${state.clients.length} of them`);
  t.ok(Buffer.byteLength(event) < 128 * 1024, `a state event is ${Buffer.byteLength(event)} bytes (< 128 KiB)`);
  // Heartbeats of all clients while the streams are open, each answered.
  for (let i = 0; i < CLIENTS; i += 10) tcp.send({ command: 'client_heartbeat', client_id: id(i) });
  let beats = 0;
  for (let i = 0; i < CLIENTS; i += 10) if ((await tcp.next())?.status === 'ok') beats++;
  t.equal(beats, CLIENTS / 10, 'every heartbeat answered');
});
