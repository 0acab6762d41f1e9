// Bounded, seeded fuzzing of the wire protocol. Thousands of frames: random bytes, random
// msgpack structures, mutations of valid requests (wrong types, missing fields, huge
// integers, nested maps, bin for str and the reverse, huge declared lengths), valid
// requests of every command including the two-phase ones, and frames that break the
// stream. Every frame must get ok, a documented error, or a clean close; the server must
// stay up; nothing may be written outside the data directory.
// Replay a failure with FUZZ_SEED=<seed printed in the test name>.
import { mkdir, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import t from 'tap';
import { MSG } from '../../../src/errors.js';
import { chunkServerCommands } from '../../../src/chunk-server/commands/index.js';
import { isSafeId } from '../../../src/safe-name.js';
import { DISK_MARGIN_BYTES } from '../../../src/storage/index.js';
import { encodeBody } from '../../../src/wire/codec.js';
import { call, Client, type Reply } from '../../support/frames.js';
import { anyFrame, breakingFrame, chance, FIELDS, int, MARKER, MAX_FRAME_BYTES, requestFrame, SEED } from '../../support/fuzz-inputs.js';
import { startServer } from '../../support/in-process.js';
import { tempDir } from '../../support/temp.js';

const BATCHES = 600;
const PARALLEL = 4;

// ---- what the server may answer -------------------------------------------------------

const DOCUMENTED = new Set<string>([
  ...Object.values(MSG).filter((m) => m !== MSG.internal),
  'bad_request: body is not a map',
  'bad_request: missing command',
  'bad_request: command is not a string',
  'bad_request: undecodable body',
  ...FIELDS.map((f) => `bad_request: ${f}`),
  // record_append's own fields (PROTOCOL.md, "Leases and record_append").
  ...['chunk_size', 'partial', 'epoch', 'version'].map((f) => `bad_request: ${f}`),
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
