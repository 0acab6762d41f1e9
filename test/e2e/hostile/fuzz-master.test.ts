// Issue 21 item 7: the master and its console fuzzed as the chunk server is. Seeded random
// and mutated frames to the master's port (every master command with hostile values, random
// bytes, truncated and oversized frames) and random HTTP to the console (methods, paths,
// headers, bodies, slow senders). The console's status codes are another change's concern:
// only survival and bounds are checked. Replay a failure with FUZZ_SEED=<seed in the name>.
import { readdir, readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { masterCommands } from '../../../src/master/commands/index.js';
import { encodeBody } from '../../../src/wire/codec.js';
import { freePort, masterToml, writeToml } from '../../support/configs.js';
import { call, Client, lengthPrefixed } from '../../support/frames.js';
import { anyFrame, breakingFrame, chance, int, pick, randomBytes, SEED } from '../../support/fuzz-inputs.js';
import { spawnMaster } from '../../support/processes.js';
import { tempDir } from '../../support/temp.js';
import { waitFor } from '../../support/waits.js';

const BATCHES = 150;
const HTTP_REQUESTS = 300;
const RSS_LIMIT_KB = 400 * 1024;
const MASTER_FIELDS = ['file_path', 'chunk_id', 'chunk_index', 'client_id', 'location', 'address', 'space_info', 'total_size', 'total_chunks', 'chunk_locations', 'chunk_size', 'offset', 'corrupt_chunks', 'pending_replication'];

function hostile(): unknown {
  switch (int(10)) {
    case 0: return null;
    case 1: return pick([-1, 2 ** 53, 1e308, NaN, 0.5, -0]);
    case 2: return 'x'.repeat(pick([0, 1, 300, 3000, 70_000]));
    case 3: return pick(['/', '/a', '/../etc', '', 'é/', '/a\0b', '127.0.0.1:1', 'member:master']);
    case 4: return randomBytes(int(64));
    case 5: return Array.from({ length: pick([0, 2, 50, 2000]) }, () => pick(['127.0.0.1:1', 1, null, 'c']));
    case 6: return Object.fromEntries(Array.from({ length: int(6) }, (_, i) => [pick(['c1', '__proto__', String(i)]), pick([[], 1, 'x', null])]));
    case 7: return [pick([0, 1e9, -5, 'x']), pick([0, 1e9, -5])];
    case 8: return { total: pick([1, -1, 2 ** 60]), used: pick([0, 'x']) };
    default: return int(1000);
  }
}

function masterFrame(): Buffer {
  const req: Record<string, unknown> = { command: pick(masterCommands.names) };
  for (let n = int(7); n > 0; n--) Object.defineProperty(req, pick(MASTER_FIELDS), { value: hostile(), enumerable: true, writable: true, configurable: true });
  return lengthPrefixed(encodeBody(req));
}

async function runBatch(port: number): Promise<void> {
  const c = await Client.connect(port);
  const frames = Array.from({ length: 1 + int(10) }, () => (chance(0.7) ? masterFrame() : anyFrame()));
  for (const f of frames) c.write(f);
  if (chance(0.3)) c.write(breakingFrame());
  c.socket.end();
  // Replies or a close, whichever: the server must not hang on any of it.
  const deadline = setTimeout(() => c.close(), 20_000);
  while ((await c.next()) !== null);
  clearTimeout(deadline);
}

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'HEAD', 'PATCH', 'BREW', 'G\0T'];
const PATHS = ['/', '/api/state', '/api/events', '/api/file/append', '/api/files', '/metrics', '/healthz', '/../../etc/passwd', '/%00', `/${'a'.repeat(9000)}`, '/api/file?path=%2F..'];

/** One raw HTTP exchange: random request line, headers and body, sometimes trickled and abandoned. */
function rawHttp(port: number): Promise<void> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    const done = (): void => {
      s.destroy();
      resolve();
    };
    const timer = setTimeout(done, 3000);
    s.on('error', done);
    s.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
    s.on('data', () => undefined);
    s.on('connect', () => {
      const body = chance(0.5) ? randomBytes(int(5000)) : Buffer.from(JSON.stringify({ path: hostile(), data: hostile() }));
      const headers = [`Host: 127.0.0.1:${port}`, `Content-Length: ${pick([body.length, 0, 99999999, -1])}`];
      if (chance(0.3)) headers.push(`Origin: ${pick(['http://evil.example', 'null', `http://127.0.0.1:${port}`])}`);
      if (chance(0.3)) headers.push(`Content-Type: ${pick(['application/json', 'text/plain', 'multipart/form-data'])}`);
      if (chance(0.2)) headers.push(`X-${'h'.repeat(int(100))}: ${'v'.repeat(int(20_000))}`);
      const head = `${pick(METHODS)} ${pick(PATHS)} HTTP/1.${int(2)}\r\n${headers.join('\r\n')}\r\n\r\n`;
      const all = Buffer.concat([Buffer.from(head, 'latin1'), body]);
      if (chance(0.2)) s.write(all.subarray(0, int(all.length))); // a slow sender that stops
      else s.end(all);
    });
  });
}

async function fds(pid: number): Promise<number> {
  return (await readdir(`/proc/${pid}/fd`)).length;
}

async function rssKb(pid: number): Promise<number> {
  return Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))![1]);
}

t.test(`fuzz the master's port and its console (FUZZ_SEED=${SEED})`, async (t) => {
  const dir = await tempDir(t);
  const httpPort = await freePort();
  const config = await writeToml(dir, 'm.toml', masterToml({ extra: `http_port = ${httpPort}\n` }));
  const master = await spawnMaster(t, ['--config', config, '--port', '0', '--metadata', 'meta.json'], dir);
  const pid = master.proc.pid!;
  const alive = async (): Promise<void> => {
    t.equal(master.proc.exitCode, null, 'the master is running');
    t.equal((await call(master.port, { command: 'list_files' })).status, 'ok', 'and answers');
  };
  await alive();
  const baseFds = await fds(pid);

  for (let i = 0; i < BATCHES; i += 4) await Promise.all(Array.from({ length: 4 }, () => runBatch(master.port)));
  await alive();
  for (let i = 0; i < HTTP_REQUESTS; i += 10) await Promise.all(Array.from({ length: 10 }, () => rawHttp(httpPort)));
  await alive();

  t.ok((await rssKb(pid)) < RSS_LIMIT_KB, `RSS under ${RSS_LIMIT_KB} KiB`);
  // Connections the fuzzer left close (idle and header timeouts): open files come back near the start.
  await waitFor('open files back near baseline', async () => ((await fds(pid)) <= baseFds + 5 ? true : undefined), 60_000, 500);
  const files = (await call(master.port, { command: 'list_files' })).files as unknown[];
  t.ok(files.length <= BATCHES * 10, `namespace bounded by what was sent (${files.length} files)`);
  t.ok((await readdir(join(dir, 'namespace'))).length <= 10, 'namespace directory: its own few files');
});
