// Bounded, seeded fuzzing of the wire protocol. Thousands of frames: random bytes, random
// msgpack structures, mutations of valid requests (wrong types, missing fields, huge
// integers, nested maps, bin for str and the reverse, huge declared lengths), valid
// requests of every command including the two-phase ones, and frames that break the
// stream. Every frame must get ok, a documented error, or a clean close; the server must
// stay up; nothing may be written outside the data directory.
// Replay a failure with FUZZ_SEED=<seed printed in the test name>.
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import { Packr } from 'msgpackr';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import t from 'tap';
import { MSG } from '../../../src/errors.js';
import { chunkServerCommands } from '../../../src/chunk-server/commands/index.js';
import { isSafeId } from '../../../src/safe-name.js';
import { DISK_MARGIN_BYTES } from '../../../src/storage/index.js';
import { encodeBody } from '../../../src/wire/codec.js';
import { waitFor, writeToml } from '../../support/cluster-helpers.js';
import { duBytes } from '../../support/disk-use.js';
import { call, Client, MIB, spawnServer, startServer, tempDir, type Reply } from '../../support/helpers.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20240611);
const BATCHES = 600;
const PARALLEL = 4;
const MAX_FRAME_BYTES = 256 * 1024;
// Every path-like id the fuzzer sends carries this, so a file it escaped to can be found.
const MARKER = 'fuzzescape';

/** mulberry32: small, seedable, good enough to spread inputs. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = prng(SEED);
const int = (n: number): number => Math.floor(rand() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
const chance = (p: number): boolean => rand() < p;
function randomBytes(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = int(256);
  return b;
}

// ---- what the server may answer -------------------------------------------------------

const FIELDS = ['chunk_id', 'transaction_id', 'data', 'size', 'offset', 'file_path', 'chunk_index', 'client_id', 'replica_servers', 'current_replica'];
// replicate_chunk connects to the addresses its request names; fuzzing it could send traffic
// off this machine, so it is left to test/cluster/chain.test.ts.
const FUZZED_COMMANDS = chunkServerCommands.names.filter((c) => c !== 'replicate_chunk');
const DOCUMENTED = new Set<string>([
  ...Object.values(MSG).filter((m) => m !== MSG.internal),
  'bad_request: body is not a map',
  'bad_request: missing command',
  'bad_request: command is not a string',
  'bad_request: undecodable body',
  ...FIELDS.map((f) => `bad_request: ${f}`),
]);
const DOCUMENTED_PATTERNS = [
  /^unknown_command: /s,
  /^bad_request: frame too large: \d+ bytes, limit \d+$/,
  /^bad_request: duplicate field /s,
  /^bad_request: fields besides large bin values exceed \d+ bytes$/,
];
// Replies after which the server closes the connection (PROTOCOL.md section 4).
const FATAL = /^bad_request: (undecodable body|frame too large: )/;

function documented(reply: Reply): boolean {
  if (reply.status === 'ok') return true;
  if (reply.status !== 'error' || typeof reply.message !== 'string') return false;
  return DOCUMENTED.has(reply.message) || DOCUMENTED_PATTERNS.some((p) => p.test(reply.message));
}

// ---- inputs ------------------------------------------------------------------------------

const IDS = ['f1', 'f2', 'x.y', '-a', 'A_b'];
const TX_IDS = ['1700000000000', '1700000000001', 't'];
const BAD_IDS = [`../${MARKER}`, `../../${MARKER}`, `/tmp/${MARKER}`, `.${MARKER}`, '.', '..', '', `a/${MARKER}`, `${MARKER}\0x`, 'x'.repeat(129), 'é', ' '];

/** A valid request of any command, on a few ids so that stores, appends and transactions meet. */
function validRequest(): Record<string, unknown> {
  const command = pick(FUZZED_COMMANDS);
  const chunk_id = pick(IDS);
  const transaction_id = pick(TX_IDS);
  const data = randomBytes(pick([0, 1, 100, 5000, 70_000]));
  switch (command) {
    case 'store_chunk':
      return { command, chunk_id, data, file_path: '/f', ...(chance(0.5) ? { replica_servers: true } : {}) };
    case 'append_chunk':
      return { command, chunk_id, data, offset: int(10), file_path: '/f' };
    case 'check_space':
      return { command, size: pick([0, 1, 1 << 20, 2 ** 40]) };
    case 'prepare_chunk':
      return { command, chunk_id, transaction_id, data, file_path: '/f' };
    case 'prepare_append':
      return { command, chunk_id, transaction_id, data, offset: pick([0, 1, 100, 5000, 10 ** 6]) };
    case 'retrieve_chunk':
    case 'delete_chunk':
      return { command, chunk_id };
    default:
      return { command, chunk_id, transaction_id };
  }
}

/** A value of some other type than a field expects: the mutations of valid requests. */
function evilValue(depth = 0): unknown {
  switch (int(depth > 3 ? 12 : 15)) {
    case 0: return null;
    case 1: return chance(0.5);
    case 2: return pick([-1, -(2 ** 31), 2 ** 32, 2 ** 53, 0.5, NaN, Infinity, -Infinity, -0]);
    case 3: return pick([(1n << 64n) - 1n, 1n << 63n, -(1n << 63n), 2n ** 53n + 1n]);
    case 4: return randomBytes(int(40));
    case 5: return pick(BAD_IDS);
    case 6: return 'x'.repeat(int(300));
    case 7: return Buffer.from(pick(IDS));
    case 8: return randomBytes(int(4)).toString('latin1');
    case 9: return int(1000);
    case 10: return pick(['store_chunk', 'commit_append', '__proto__', 'constructor', 'toString']);
    case 11: return String(int(100));
    case 12: return Array.from({ length: int(5) }, () => evilValue(depth + 1));
    case 13: return Object.fromEntries(Array.from({ length: int(5) }, () => [pick([...FIELDS, 'command', 'x']), evilValue(depth + 1)]));
    default: return nested(1 + int(chance(0.1) ? 3000 : 40));
  }
}

/** Maps inside maps, `depth` deep. */
function nested(depth: number): unknown {
  let v: unknown = 'bottom';
  for (let i = 0; i < depth; i++) v = chance(0.7) ? { command: 'check_space', size: v } : [v];
  return v;
}

/** An own field, even for `__proto__` (plain assignment would set the prototype). */
function setField(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function mutatedRequest(): Buffer {
  const req = validRequest();
  for (let n = 1 + int(3); n > 0; n--) {
    const keys = Object.keys(req);
    switch (int(5)) {
      case 0: delete req[pick(keys)]; break;
      case 1:
      case 2: setField(req, pick(keys), evilValue()); break;
      case 3: setField(req, pick([...FIELDS, 'replica_servers', 'extra', '__proto__', 'hasOwnProperty']), evilValue()); break;
      default: req.command = pick([...FUZZED_COMMANDS, 'nope', '', 'STORE_CHUNK', 'heartbeat']);
    }
  }
  return encodeBody(chance(0.03) ? evilValue() : req);
}

// Raw msgpack, to reach what no encoder would write: keys of any type, extension types,
// declared lengths far beyond the body.
function rawValue(depth: number): Buffer {
  const r = int(depth > 4 ? 10 : 13);
  const u32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return b; };
  switch (r) {
    case 0: return Buffer.from([pick([0xc0, 0xc2, 0xc3, int(0x80), 0xe0 | int(32)])]);
    case 1: return Buffer.concat([Buffer.from([pick([0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3, 0xca, 0xcb])]), randomBytes(8)]).subarray(0, 9);
    case 2: { const s = randomBytes(int(20)); return Buffer.concat([Buffer.from([0xa0 | s.length]), s]); }
    case 3: { const b = randomBytes(int(200)); return Buffer.concat([Buffer.from([0xc4, b.length]), b]); }
    case 4: return Buffer.concat([Buffer.from([pick([0xc6, 0xdb, 0xdd, 0xdf, 0xc9])]), u32(pick([0xffffffff, 0x7fffffff, 1 << 30, 1000])), randomBytes(int(8))]);
    case 5: return Buffer.concat([Buffer.from([pick([0xd4, 0xd5, 0xd6, 0xd7, 0xd8]), pick([0xff, 0x00, 0x01, 0x7f])]), randomBytes(16)]).subarray(0, 2 + pick([1, 2, 4, 8, 16]));
    case 6: return Buffer.concat([Buffer.from([0xc7, int(10), pick([0xff, 0x01])]), randomBytes(10)]);
    case 7: return Buffer.from([0xc1]);
    case 8: return Buffer.from('a7636f6d6d616e64', 'hex');
    case 9: return encodeBody(pick(IDS));
    case 10: { const n = int(4); return Buffer.concat([Buffer.from([0x90 | n]), ...Array.from({ length: n }, () => rawValue(depth + 1))]); }
    default: {
      const n = int(5);
      const parts: Buffer[] = [Buffer.from([0x80 | n])];
      for (let i = 0; i < n; i++) parts.push(chance(0.6) ? encodeBody(pick([...FIELDS, 'command'])) : rawValue(depth + 1), rawValue(depth + 1));
      return Buffer.concat(parts);
    }
  }
}

function rawRequest(): Buffer {
  const n = int(6);
  const parts: Buffer[] = [Buffer.from([0x80 | (n + 1)]), encodeBody('command'), chance(0.7) ? encodeBody(pick(FUZZED_COMMANDS)) : rawValue(1)];
  for (let i = 0; i < n; i++) parts.push(chance(0.5) ? encodeBody(pick(FIELDS)) : rawValue(1), rawValue(1));
  return Buffer.concat(parts);
}

function framed(body: Buffer): Buffer {
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32BE(body.length);
  return Buffer.concat([prefix, body]);
}

/** A well-formed request map, valid or mutated: always decodable, so always answered. */
function requestFrame(): Buffer {
  return framed(chance(0.45) ? encodeBody(validRequest()) : mutatedRequest());
}

/** Anything framed; raw and random bodies are mostly undecodable, which ends the connection. */
function anyFrame(): Buffer {
  const r = rand();
  if (r < 0.5) return requestFrame();
  if (r < 0.85) return framed(rawRequest());
  return framed(randomBytes(int(100)));
}

/** Last frame of a batch, after which the client also half-closes. */
function breakingFrame(): Buffer {
  switch (int(4)) {
    case 0: { const b = Buffer.alloc(4); b.writeUInt32BE(MAX_FRAME_BYTES + 1 + int(2 ** 31)); return Buffer.concat([b, randomBytes(int(50))]); }
    case 1: { const whole = framed(encodeBody(validRequest())); return whole.subarray(0, int(whole.length)); }
    case 2: return randomBytes(1 + int(3));
    default: return randomBytes(int(300));
  }
}

// ---- running it ---------------------------------------------------------------------------

interface Tally {
  frames: number;
  ok: number;
  errors: number;
  fatal: number;
  cleanCloses: number;
  undocumented: Array<{ frame: string; reply: Reply }>;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(`no reply and no close: ${what}`)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

interface Batch {
  frames: Buffer[];
  /** Sent last; the client then half-closes. */
  breaker: Buffer | null;
  /** Half-close after the last whole frame even without a breaker. */
  halfClose: boolean;
}

async function runBatch(port: number, { frames, breaker, halfClose }: Batch, tally: Tally): Promise<void> {
  const c = await Client.connect(port);
  try {
    for (const f of frames) c.write(f);
    if (breaker) c.write(breaker);
    if (breaker || halfClose) c.socket.end();
    tally.frames += frames.length + (breaker ? 1 : 0);
    for (let i = 0; i < frames.length + (breaker ? 1 : 0); i++) {
      const reply = await withTimeout(c.next(), 15_000, `frame ${i} of ${frames.length} (${frames[i]?.subarray(0, 40).toString('hex') ?? 'breaker'})`);
      if (reply === null) {
        // Only a stream the client broke may end without a reply to each whole frame.
        if (!breaker || i < frames.length) throw new Error(`closed without a reply to whole frame ${i}: ${frames[i]!.subarray(0, 60).toString('hex')}`);
        tally.cleanCloses++;
        return;
      }
      if (!documented(reply)) tally.undocumented.push({ frame: frames[i]?.subarray(0, 80).toString('hex') ?? 'breaker', reply });
      if (reply.status === 'ok') tally.ok++;
      else tally.errors++;
      if (FATAL.test(String(reply.message))) {
        tally.fatal++;
        await withTimeout(c.closed(), 5000, 'close after a protocol violation');
        return;
      }
    }
  } finally {
    c.close();
  }
}

/** Every path under `root`, except inside `skip`. */
async function listing(root: string, skip: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (path === skip) continue;
      out.push(relative(root, path));
      if (e.isDirectory()) await walk(path);
    }
  };
  await walk(root);
  return out.sort();
}

const escaped = async (): Promise<string[]> => (await readdir(tmpdir())).filter((n) => n.includes(MARKER));

t.test(`fuzz: ${BATCHES} connections of random, mutated and valid frames (FUZZ_SEED=${SEED})`, async (t) => {
  const root = await tempDir(t, 'chunkserver-fuzz-');
  const dataDir = join(root, 'a', 'b', 'data');
  await mkdir(dataDir, { recursive: true });
  const before = await listing(root, dataDir);
  const escapedBefore = await escaped();
  const server = await startServer(t, { spaceMb: 4, maxMessageMb: MAX_FRAME_BYTES / (1024 * 1024), frameTimeoutS: 5 }, dataDir);
  const tally: Tally = { frames: 0, ok: 0, errors: 0, fatal: 0, cleanCloses: 0, undocumented: [] };

  // Inputs are drawn in a fixed order, so a seed always makes the same frames.
  // Long connections of decodable requests, short ones of anything (whose frames after an
  // undecodable one are never read).
  const batches = Array.from({ length: BATCHES }, (): Batch => {
    const frames = chance(0.55) ? Array.from({ length: 1 + int(20) }, requestFrame) : Array.from({ length: 1 + int(8) }, anyFrame);
    return { frames, breaker: chance(0.25) ? breakingFrame() : null, halfClose: chance(0.3) };
  });
  for (let i = 0; i < batches.length; i += PARALLEL) {
    await Promise.all(batches.slice(i, i + PARALLEL).map((b) => runBatch(server.port, b, tally)));
    const alive = await call(server.port, { command: 'check_space', size: 0 });
    if (alive.status !== 'ok') t.fail(`server not answering after batch ${i}: ${JSON.stringify(alive)}`);
  }
  t.comment(JSON.stringify({ ...tally, undocumented: tally.undocumented.length }));
  t.ok(tally.frames >= 4000, `${tally.frames} frames sent`);
  t.same(tally.undocumented, [], 'every reply is ok or a documented error');
  t.ok(tally.ok > 500 && tally.errors > 1000 && tally.fatal > 20 && tally.cleanCloses > 10, 'every kind of outcome was reached');

  const chunkDir = server.store.dir;
  await server.stop();
  t.same(await listing(root, dataDir), before, 'nothing written outside the data directory');
  t.same(await escaped(), escapedBefore, `no file named with ${MARKER} in ${tmpdir()}`);
  t.same((await readdir(dataDir)).filter((n) => !['server_info.json', 'transactions.log', 'test1'].includes(n)), [], 'data directory: only its own files');
  const strays = (await readdir(chunkDir)).filter((n) => !isSafeId(n) && !['.meta', '.prepared', '.quarantine'].includes(n));
  t.same(strays, [], 'chunk directory: chunks and internal folders only');
  t.notOk((await listing(chunkDir, '')).some((p) => p.includes(MARKER)), 'no escaped id became a file name');

  const again = await startServer(t, { spaceMb: 4 }, dataDir);
  t.same(await call(again.port, { command: 'check_space', size: 0 }), { status: 'ok' }, 'the data it left restarts cleanly');
});

// ---- hostile rounds (issue 14): a real server process, its RSS and open files checked ----

const HOSTILE_ROUNDS = 4;
// A limit the tiny writes of one round pass: 8 MiB held by the chunk the stalled readers
// ask for, about 2 MiB free.
const HOSTILE_SPACE_MB = 10;
const TINY_CHUNKS = 200;
const TINY_PREPARES = 100;
// RSS allowed after a round: start-up (~60 MiB) plus a buffer pool kept at 16 MiB, with room
// for the garbage collector's slack. Frames announcing 80 MiB must not show up here.
const RSS_LIMIT_BYTES = 320 * MIB;

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) * 1024;
}
const openFiles = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;

/** A frame holding one msgpack extension value: structured-clone references, records, sets, timestamps, or random ext types. */
function extensionFrame(): Buffer {
  const which = int(5);
  if (which === 0) {
    let v: unknown = { a: int(100) };
    for (let i = 0; i < 30 + int(20); i++) v = [v, v];
    return framed(new Packr({ structuredClone: true }).pack({ command: pick(FUZZED_COMMANDS), size: v }));
  }
  if (which === 1) return framed(new Packr({ useRecords: true }).pack([{ command: 'check_space', size: 1 }, { command: 'check_space', size: 2 }]));
  if (which === 2) return framed(new Packr({ moreTypes: true }).pack({ command: 'check_space', size: new Set([1, 2, 3]) }));
  const type = int(256);
  const payload = randomBytes(pick([1, 2, 4, 8, 16]));
  const ext = Buffer.concat([Buffer.from([{ 1: 0xd4, 2: 0xd5, 4: 0xd6, 8: 0xd7, 16: 0xd8 }[payload.length]!, type]), payload]);
  return framed(Buffer.concat([Buffer.from([0x82]), encodeBody('command'), encodeBody('check_space'), encodeBody('size'), ext]));
}

/** A prefix announcing a large body, and only its first bytes. */
function announcement(): Buffer {
  const b = Buffer.alloc(9);
  b.writeUInt32BE(pick([2 * MIB, 40 * MIB, 80 * MIB]));
  b[4] = pick([0xdd, 0xdf, 0x83, 0xc6]);
  b.writeUInt32BE(int(2 ** 32), 5);
  return b;
}

t.test(`fuzz: ${HOSTILE_ROUNDS} hostile rounds against a server process (FUZZ_SEED=${SEED})`, async (t) => {
  const dir = await tempDir(t, 'chunkserver-hostile-');
  const config = await writeToml(dir, 'c.toml', '[chunk_server]\nwrite_timeout_s = 1\nframe_timeout_s = 3\nbuffer_pool_mb = 16\n');
  const server = await spawnServer(t, ['--config', config, '--data_dir', 'data', '--no_master', '--space', String(HOSTILE_SPACE_MB)], dir);
  const pid = server.proc.pid!;
  const self = `127.0.0.1:${server.port}`;
  const baselineFiles = openFiles(pid);
  t.match(await call(server.port, { command: 'store_chunk', chunk_id: 'big', data: randomBytes(8 * MIB) }), { status: 'ok' });
  for (let round = 0; round < HOSTILE_ROUNDS; round++) {
    const held: Client[] = [];
    // Extension types and shared references: each one answered as undecodable, at once.
    for (let i = 0; i < 20; i++) {
      const c = await Client.connect(server.port, t);
      c.write(extensionFrame());
      const r = await c.next();
      if (r?.message !== 'bad_request: undecodable body') t.fail(`extension frame answered ${JSON.stringify(r)}`);
      c.close();
    }
    // Declared but unsent sizes, left open.
    for (let i = 0; i < 12; i++) {
      const c = await Client.connect(server.port, t);
      c.write(announcement());
      held.push(c);
    }
    // Stalled readers: retrieves never read.
    for (let i = 0; i < 4; i++) {
      const c = await Client.connect(server.port, t);
      c.socket.pause();
      c.send({ command: 'retrieve_chunk', chunk_id: 'big' });
      held.push(c);
    }
    // Looping and long chains, and chains out of the cluster: refused, nothing forwarded.
    const chains = [[self, self], [self, '127.0.0.1:9'], Array.from({ length: 9 + int(20) }, (_, i) => `127.0.0.1:${1000 + i}`)];
    for (const chain of chains) {
      const r = await call(server.port, { command: 'replicate_chunk', chunk_id: 'loop', data: randomBytes(10), replica_servers: chain, current_replica: 0 });
      if (!/^(forward_refused: |bad_request: replica_servers)/.test(String(r.message))) t.fail(`chain ${chain.length} answered ${JSON.stringify(r)}`);
    }
    // Many tiny chunks and empty prepares, more than the limit holds as the disk counts them
    // (about 2 MiB free, 8 KiB a tiny chunk, 20 KiB a prepare), then deleted and rolled back.
    const tiny = await Client.connect(server.port, t);
    const refusedForSpace = new Set(['insufficient_space', 'too_many_prepared']);
    let refused = 0;
    for (let i = 0; i < TINY_CHUNKS; i++) tiny.send({ command: 'store_chunk', chunk_id: `t${round}-${i}`, data: randomBytes(1 + int(3)) });
    for (let i = 0; i < TINY_PREPARES; i++) tiny.send({ command: 'prepare_chunk', chunk_id: `p${round}-${i}`, transaction_id: String(i), data: Buffer.alloc(0) });
    for (let i = 0; i < TINY_CHUNKS + TINY_PREPARES; i++) {
      const r = await tiny.next();
      if (r?.status === 'ok') continue;
      if (!refusedForSpace.has(String(r?.message))) t.fail(`tiny write answered ${JSON.stringify(r)}`);
      refused++;
    }
    if (refused === 0) t.fail(`round ${round}: the tiny writes never reached the limit`);
    const used = duBytes(join(dir, 'data'));
    t.ok(used <= HOSTILE_SPACE_MB * MIB + DISK_MARGIN_BYTES, `round ${round}: du of the data dir ${used} B within ${HOSTILE_SPACE_MB} MiB + ${DISK_MARGIN_BYTES} B`);
    for (let i = 0; i < TINY_CHUNKS; i++) tiny.send({ command: 'delete_chunk', chunk_id: `t${round}-${i}` });
    for (let i = 0; i < TINY_PREPARES; i++) tiny.send({ command: 'rollback_chunk', chunk_id: `p${round}-${i}`, transaction_id: String(i) });
    for (let i = 0; i < TINY_CHUNKS + TINY_PREPARES; i++) await tiny.next();
    tiny.close();

    t.same(await call(server.port, { command: 'check_space', size: 1 }), { status: 'ok' }, `round ${round}: the server answers`);
    const rss = rssBytes(pid);
    t.ok(rss < RSS_LIMIT_BYTES, `round ${round}: RSS ${Math.round(rss / MIB)} MiB under ${RSS_LIMIT_BYTES / MIB} MiB`);
    for (const c of held) c.close();
    await waitFor(`round ${round}: open files back to start-up's`, async () => (openFiles(pid) <= baselineFiles + 2 ? true : undefined), 30_000, 100);
    t.pass(`round ${round}: open files back to ${baselineFiles} (+2)`);
  }
});
