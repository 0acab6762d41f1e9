// `npm run bench`: the chunk server against baselines measured in the same run (see
// notes/issue7.md). Every server figure goes through real sockets to a real child process.
import { mkdir, mkdtemp, open, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { appendFigures } from './append-bench.js';
import { authComparison } from './auth-bench.js';
import { BenchConn, requestFrame, type BenchReply } from './bench-client.js';
import type { BenchRow } from './row.js';
import { startChild, stopChild, type Child } from './children.js';

const KIB = 1024;
const MIB = 1024 * KIB;
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SERVER_BIN = join(ROOT, 'bin', 'chunkserver');
const PEER_JS = join(ROOT, 'dist-bench', 'bench', 'peer.js');

const SIZES = [
  { label: '64 KiB', bytes: 64 * KIB, window: 16, kept: 16, group: '64k' },
  { label: '1 MiB', bytes: MIB, window: 8, kept: 8, group: '1m' },
  { label: '64 MiB', bytes: 64 * MIB, window: 4, kept: 4, group: '64m' },
] as const;
const PAIR_CLIENTS = [1, 8, 64];
const PAIR_BYTES = 4 * KIB;
const RSS_CLIENTS = 16;
const RSS_CHUNK_BYTES = 64 * MIB;

interface Args {
  quick: boolean;
  json: string | null;
  dir: string | null;
  cpuProf: string | null;
  serverConfig: string | null;
  only: Set<string> | null;
}

function usage(message: string): never {
  process.stderr.write(`bench: ${message}\nusage: npm run bench -- [--quick] [--json FILE] [--dir DIR] [--cpu-prof DIR] [--server-config TOML] [--only 64k,1m,64m,append,pairs,rss,auth]\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, json: null, dir: null, cpuProf: null, serverConfig: null, only: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => argv[++i] ?? usage(`${a} needs a value`);
    if (a === '--quick') args.quick = true;
    else if (a === '--json') args.json = value();
    else if (a === '--dir') args.dir = value();
    else if (a === '--cpu-prof') args.cpuProf = resolve(value());
    else if (a === '--only') args.only = new Set(value().split(','));
    else if (a === '--server-config') args.serverConfig = resolve(value());
    else usage(`unknown argument ${a}`);
  }
  return args;
}

type Row = BenchRow;

// ---------------------------------------------------------------- processes

function startServer(dataDir: string, serverId: string, nodeArgs: string[], serverArgs: string[]): Promise<Child> {
  const cmd = [...nodeArgs, SERVER_BIN, ...serverArgs, '--no_master', '--host', '127.0.0.1', '--port', '0', '--data_dir', dataDir];
  cmd.push('--server_id', serverId, '--space', String(1024 * 1024), '--log_level', 'info');
  return startChild(
    cmd,
    (line) => {
      const m = /"address":"[^"]*:(\d+)"[^\n]*"msg":"chunk server listening"/.exec(line);
      return m ? Number(m[1]) : null;
    },
    'chunk server',
  );
}

function startPeer(): Promise<Child> {
  return startChild([PEER_JS], (line) => (line.startsWith('{"port"') ? (JSON.parse(line) as { port: number }).port : null), 'baseline peer');
}

/** Peak and current resident set of a process, in bytes (Linux /proc). */
async function memoryOf(pid: number): Promise<{ hwm: number; rss: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * KIB;
  return { hwm: kb('VmHWM'), rss: kb('VmRSS') };
}

// Linux reports process CPU time in clock ticks of 1/100 s (USER_HZ) on every common platform.
const TICKS_PER_S = 100;

/** CPU time a process has used so far, in seconds: in user space and in the kernel. */
async function cpuSecondsOf(pid: number): Promise<{ user: number; system: number }> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / TICKS_PER_S, system: Number(fields[12]) / TICKS_PER_S };
}

// ---------------------------------------------------------------- measuring

interface Run {
  ops: number;
  bytes: number;
  seconds: number;
}

const now = (): number => performance.now();

/** Runs `op` back to back until `ms` have passed and at least `minOps` ran. */
async function sequential(ms: number, minOps: number, op: (i: number) => Promise<number>): Promise<Run> {
  const start = now();
  let ops = 0;
  let bytes = 0;
  while (now() - start < ms || ops < minOps) {
    const n = await op(ops++);
    bytes += n;
  }
  return { ops, bytes, seconds: (now() - start) / 1000 };
}

/** Keeps `window` operations in flight until `ms` have passed and at least `minOps` were issued. */
async function pipelined(ms: number, minOps: number, window: number, op: (i: number) => Promise<number>): Promise<Run> {
  const start = now();
  let issued = 0;
  let bytes = 0;
  const lanes = Array.from({ length: window }, async () => {
    while (now() - start < ms || issued < minOps) {
      // Not `bytes += await ...`: that reads `bytes` before the await and loses other lanes' adds.
      const n = await op(issued++);
      bytes += n;
    }
  });
  await Promise.all(lanes);
  return { ops: issued, bytes, seconds: (now() - start) / 1000 };
}

function expectOk(reply: BenchReply, what: string): BenchReply {
  if (reply.status !== 'ok') throw new Error(`${what}: ${reply.status} ${reply.message ?? ''}`);
  return reply;
}

async function oneShot(port: number, pieces: Buffer[]): Promise<BenchReply> {
  const conn = await BenchConn.open(port);
  try {
    return await conn.request(pieces);
  } finally {
    conn.close();
  }
}

function storeFrame(id: string, data: Buffer): Buffer[] {
  return requestFrame({ command: 'store_chunk', chunk_id: id, file_path: '/bench/file' }, data);
}

function retrieveFrame(id: string): Buffer[] {
  return requestFrame({ command: 'retrieve_chunk', chunk_id: id });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const mibPerS = (r: Run): number => r.bytes / MIB / r.seconds;

/** A payload that has been written once already, so first-touch page faults are not timed. */
function payload(bytes: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(bytes);
  for (let i = 0; i < bytes; i += 4) b.writeUInt32LE((Math.imul(i + 1, 2654435761) ^ seed) >>> 0, i);
  return b;
}

// ---------------------------------------------------------------- baselines

/** Each file: create, one write of `bytes`, fsync, close; as a chunk lands, minus our code. */
async function diskBaseline(dir: string, buf: Buffer, ms: number, minOps: number): Promise<Run> {
  const bytes = buf.length;
  const paths: string[] = [];
  const run = await sequential(ms, minOps, async (i) => {
    const path = join(dir, `baseline-${bytes}-${i}`);
    paths.push(path);
    const fh = await open(path, 'w');
    try {
      await fh.write(buf, 0, bytes, 0);
      await fh.sync();
    } finally {
      await fh.close();
    }
    return bytes;
  });
  await Promise.all(paths.map((p) => unlink(p)));
  return run;
}

/** Each completed operation's latency (ms), and the time they took together. */
interface Latencies {
  ms: number[];
  seconds: number;
}

/** CPU used per second of a run, as a share of one core, split user / kernel. */
function cpuShare(cpu: { user: number; system: number }, runs: Latencies[]): string {
  const seconds = runs.reduce((sum, r) => sum + r.seconds, 0);
  const pct = (s: number): string => `${((100 * s) / seconds).toFixed(0)} %`;
  return `${pct(cpu.user + cpu.system)} of a core (user ${pct(cpu.user)}, kernel ${pct(cpu.system)})`;
}

function summary(runs: Latencies[]): { rate: number; p50: number; p99: number } {
  const all = runs.flatMap((r) => r.ms).sort((a, b) => a - b);
  const seconds = runs.reduce((sum, r) => sum + r.seconds, 0);
  return { rate: all.length / seconds, p50: percentile(all, 50), p99: percentile(all, 99) };
}

/**
 * `clients` connections each storing a 4 KiB chunk and reading it back, over and over. With
 * `toPeer`, the same two round trips go to the baseline peer instead: the request carries the
 * payload and the second reply brings it back, with no disk behind them.
 */
async function storeRetrievePairs(port: number, data: Buffer, clients: number, perRequest: boolean, ms: number, toPeer = false): Promise<Latencies> {
  const peerStore = requestFrame({ size: 0 }, data);
  const peerRetrieve = requestFrame({ size: data.length });
  const latencies: number[] = [];
  const start = now();
  await Promise.all(
    Array.from({ length: clients }, async (_, k) => {
      const conn = perRequest ? null : await BenchConn.open(port);
      const ask = (frame: Buffer[]): Promise<BenchReply> => (conn ? conn.request(frame) : oneShot(port, frame));
      try {
        for (let i = 0; now() - start < ms; i++) {
          const id = `p${clients}${perRequest ? 'c' : ''}-${k}-${start.toFixed(0)}-${i}`;
          const t0 = now();
          expectOk(await ask(toPeer ? peerStore : storeFrame(id, data)), 'pair store');
          const r = expectOk(await ask(toPeer ? peerRetrieve : retrieveFrame(id)), 'pair retrieve');
          if (r.dataBytes !== data.length) throw new Error('pair retrieve: wrong size');
          latencies.push(now() - t0);
        }
      } finally {
        conn?.close();
      }
    }),
  );
  return { ms: latencies, seconds: (now() - start) / 1000 };
}

/**
 * What a durable small store and its read cost without any server: `workers` concurrent loops,
 * each creating a file the way the chunk store does (temp, write, fsync, rename, directory
 * fsync) and reading it back.
 */
async function durableFilePairs(dir: string, data: Buffer, workers: number, ms: number, fsync: boolean): Promise<Latencies> {
  await mkdir(dir, { recursive: true });
  const dirHandle = await open(dir, 'r');
  const latencies: number[] = [];
  const start = now();
  try {
    await Promise.all(
      Array.from({ length: workers }, async (_, k) => {
        const buf = Buffer.allocUnsafe(data.length);
        for (let i = 0; now() - start < ms; i++) {
          const t0 = now();
          const temp = join(dir, `.t-${k}-${i}`);
          const path = join(dir, `f-${k}-${i}`);
          const fh = await open(temp, 'wx');
          await fh.write(data, 0, data.length, 0);
          if (fsync) await fh.sync();
          await fh.close();
          await rename(temp, path);
          if (fsync) await dirHandle.sync();
          const rh = await open(path, 'r');
          await rh.read(buf, 0, buf.length, 0);
          await rh.close();
          latencies.push(now() - t0);
        }
      }),
    );
  } finally {
    await dirHandle.close();
  }
  return { ms: latencies, seconds: (now() - start) / 1000 };
}

async function loopbackBaseline(port: number, bytes: number, ms: number, minOps: number, window: number | null): Promise<Run> {
  const req = requestFrame({ size: bytes });
  const check = (r: BenchReply): number => {
    if (r.dataBytes !== bytes) throw new Error(`baseline peer sent ${r.dataBytes} bytes`);
    return bytes;
  };
  if (window === null) return sequential(ms, minOps, async () => check(await oneShot(port, req)));
  const conn = await BenchConn.open(port);
  try {
    return await pipelined(ms, minOps, window, async () => check(await conn.request(req)));
  } finally {
    conn.close();
  }
}

// ---------------------------------------------------------------- main

/** All samples of a figure together: total bytes over total time. */
function combined(runs: Run[]): Run {
  return runs.reduce((a, b) => ({ ops: a.ops + b.ops, bytes: a.bytes + b.bytes, seconds: a.seconds + b.seconds }));
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  // Other work on a shared machine comes and goes, so every figure and its baseline are
  // sampled in many short alternating rounds: both see the same conditions, on average.
  const rounds = args.quick ? 2 : 8;
  const sampleMs = 300;
  const pairRounds = args.quick ? 1 : 4;
  const pairMs = args.quick ? 400 : 600;
  const wants = (group: string): boolean => args.only === null || args.only.has(group);
  const work = await mkdtemp(join(args.dir ?? tmpdir(), 'chunkserver-bench-'));
  const rows: Row[] = [];
  const started = now();
  const log = (msg: string): void => void process.stderr.write(`[${((now() - started) / 1000).toFixed(1)}s] ${msg}\n`);
  const children: Child[] = [];
  const cleanup = async (): Promise<void> => {
    await Promise.all(children.map(stopChild));
    await rm(work, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));

  try {
    const peer = await startPeer();
    children.push(peer);
    const nodeArgs = args.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${args.cpuProf}`] : [];
    const serverArgs = args.serverConfig ? ['--config', args.serverConfig] : [];
    const server = await startServer(join(work, 'data'), 'bench', nodeArgs, serverArgs);
    children.push(server);
    const port = server.port;
    let disk64: Run | null = null;

    for (const s of SIZES) {
      if (!wants(s.group)) continue;
      const data = payload(s.bytes, s.bytes);
      const modeName = (mode: 'conn' | 'pipe'): string => (mode === 'conn' ? 'connection per request' : `pipelined x${s.window}`);
      // The storage issue's targets (issue 10), for one request per connection.
      const target = (op: 'store' | 'retrieve', mode: 'conn' | 'pipe', ratio: number): Partial<Row> => {
        if (mode !== 'conn') return {};
        if (op === 'retrieve') return s.bytes >= MIB ? { target: '>= 80 % of loopback', met: ratio >= 0.8 } : {};
        const want = s.bytes >= MIB ? 0.8 : 0.6;
        return { target: `>= ${want * 100} % of disk`, met: ratio >= want };
      };

      log(`store ${s.label}: ${rounds} rounds of write+fsync baseline, store per connection, store pipelined`);
      const disk: Run[] = [];
      const stores = { conn: [] as Run[], pipe: [] as Run[] };
      let seq = 0;
      const store = async (conn: BenchConn | null): Promise<number> => {
        const frame = storeFrame(`s${s.group}-${seq++}`, data);
        expectOk(conn ? await conn.request(frame) : await oneShot(port, frame), 'store');
        return s.bytes;
      };
      for (let r = 0; r < rounds; r++) {
        disk.push(await diskBaseline(work, data, sampleMs, 1));
        stores.conn.push(await sequential(sampleMs, 1, () => store(null)));
        const conn = await BenchConn.open(port);
        stores.pipe.push(await pipelined(sampleMs, s.window, s.window, () => store(conn)));
        conn.close();
      }
      const diskBest = combined(disk);
      if (s.bytes === RSS_CHUNK_BYTES) disk64 = diskBest;
      for (const mode of ['conn', 'pipe'] as const) {
        const run = combined(stores[mode]);
        const ratio = mibPerS(run) / mibPerS(diskBest);
        rows.push({
          figure: `store ${s.label}, ${modeName(mode)}`,
          value: mibPerS(run),
          unit: 'MiB/s',
          baseline: `write+fsync ${s.label} files`,
          baselineValue: mibPerS(diskBest),
          ratio,
          detail: `${run.ops} ops in ${run.seconds.toFixed(2)} s, ${rounds} rounds`,
          ...target('store', mode, ratio),
        });
      }

      const ids = Array.from({ length: s.kept }, (_, i) => `r${s.group}-${i}`);
      for (const id of ids) expectOk(await oneShot(port, storeFrame(id, data)), 'store');
      const frames = ids.map(retrieveFrame);
      const check = (r: BenchReply): number => {
        expectOk(r, 'retrieve');
        if (r.dataBytes !== s.bytes) throw new Error(`retrieve returned ${r.dataBytes} bytes`);
        return s.bytes;
      };
      log(`retrieve ${s.label}: ${rounds} rounds of loopback baseline and retrieve, per connection and pipelined`);
      const samples = { conn: { tcp: [] as Run[], server: [] as Run[] }, pipe: { tcp: [] as Run[], server: [] as Run[] } };
      for (let r = 0; r < rounds; r++) {
        samples.conn.tcp.push(await loopbackBaseline(peer.port, s.bytes, sampleMs, 1, null));
        let i = 0;
        samples.conn.server.push(await sequential(sampleMs, 1, async () => check(await oneShot(port, frames[i++ % ids.length]!))));
        samples.pipe.tcp.push(await loopbackBaseline(peer.port, s.bytes, sampleMs, s.window, s.window));
        const conn = await BenchConn.open(port);
        samples.pipe.server.push(await pipelined(sampleMs, s.window, s.window, async () => check(await conn.request(frames[i++ % ids.length]!))));
        conn.close();
      }
      for (const mode of ['conn', 'pipe'] as const) {
        const run = combined(samples[mode].server);
        const base = combined(samples[mode].tcp);
        const ratio = mibPerS(run) / mibPerS(base);
        rows.push({
          figure: `retrieve ${s.label}, ${modeName(mode)}`,
          value: mibPerS(run),
          unit: 'MiB/s',
          baseline: `loopback TCP ${s.label} replies, ${modeName(mode)}`,
          baselineValue: mibPerS(base),
          ratio,
          detail: `${run.ops} ops in ${run.seconds.toFixed(2)} s, ${rounds} rounds`,
          ...target('retrieve', mode, ratio),
        });
      }
    }

    if (wants('append')) rows.push(...(await appendFigures(port, work, rounds, sampleMs, log)));

    if (wants('pairs')) {
      const data = payload(PAIR_BYTES, 3);
      const variants = [
        ...PAIR_CLIENTS.map((clients) => ({ clients, perRequest: false, fsync: true })),
        { clients: 8, perRequest: true, fsync: true },
        { clients: 8, perRequest: false, fsync: false },
      ];
      let unsynced: Child | null = null;
      for (const { clients, perRequest, fsync } of variants) {
        let name = `4 KiB store+retrieve pairs, ${clients} client${clients > 1 ? 's' : ''}`;
        if (perRequest) name += ', connection per request';
        if (!fsync) name += ', fsync = false (opt-in)';
        log(`${name}, and the same with files only`);
        let pairPort = port;
        if (!fsync) {
          const config = join(work, 'no-fsync.toml');
          await writeFile(config, '[chunk_server]\nfsync = false\n');
          unsynced = await startServer(join(work, 'data-nofsync'), 'bench-nofsync', [], ['--config', config]);
          children.push(unsynced);
          pairPort = unsynced.port;
        }
        const baseRuns: Latencies[] = [];
        const netRuns: Latencies[] = [];
        const serverRuns: Latencies[] = [];
        const pid = (unsynced ?? server).proc.pid!;
        const cpu = { user: 0, system: 0 };
        for (let r = 0; r < pairRounds; r++) {
          baseRuns.push(await durableFilePairs(join(work, `pairs-${children.length}-${clients}-${r}`), data, clients, pairMs / 2, fsync));
          netRuns.push(await storeRetrievePairs(peer.port, data, clients, perRequest, pairMs / 2, true));
          const cpu0 = await cpuSecondsOf(pid);
          serverRuns.push(await storeRetrievePairs(pairPort, data, clients, perRequest, pairMs));
          const cpu1 = await cpuSecondsOf(pid);
          cpu.user += cpu1.user - cpu0.user;
          cpu.system += cpu1.system - cpu0.system;
        }
        const base = summary(baseRuns);
        const net = summary(netRuns);
        const run = summary(serverRuns);
        const is8 = clients === 8 && !perRequest && fsync;
        const files = `${clients} in-process writer${clients > 1 ? 's' : ''}: create+write${fsync ? '+fsync' : ''}+rename${fsync ? '+dir fsync' : ''}, then open+read`;
        rows.push({
          figure: name,
          value: run.rate,
          unit: 'pairs/s',
          baseline: files,
          baselineValue: base.rate,
          ratio: run.rate / base.rate,
          detail: `p50 ${run.p50.toFixed(2)} ms, p99 ${run.p99.toFixed(2)} ms; server CPU ${cpuShare(cpu, serverRuns)}; files only p99 ${base.p99.toFixed(2)} ms; loopback only (same round trips to the peer) ${net.rate.toFixed(0)}/s, p99 ${net.p99.toFixed(2)} ms`,
          ...(is8 ? { target: '>= 1.0 x files only', met: run.rate >= base.rate } : {}),
        });
        rows.push({
          figure: `${name}: p99 latency`,
          value: run.p99,
          unit: 'ms',
          baseline: 'the same files-only pairs',
          baselineValue: base.p99,
          detail: `p50 ${run.p50.toFixed(2)} ms`,
          ...(is8 ? { target: '<= 1.5 x files only', met: run.p99 <= 1.5 * base.p99 } : {}),
        });
      }
      if (unsynced) await stopChild(unsynced);
    }
    await stopChild(peer);

    const mainMem = await memoryOf(server.proc.pid!);
    await stopChild(server);

    if (wants('rss')) {
      log(`peak RSS: ${RSS_CLIENTS} clients store ${RSS_CHUNK_BYTES / MIB} MiB chunks at once (fresh server)`);
      const fresh = await startServer(join(work, 'data-rss'), 'bench-rss', [], serverArgs);
      children.push(fresh);
      const idle = await memoryOf(fresh.proc.pid!);
      const data = payload(RSS_CHUNK_BYTES, 11);
      const rounds = args.quick ? 1 : 2;
      const t0 = now();
      for (let round = 0; round < rounds; round++) {
        await Promise.all(
          Array.from({ length: RSS_CLIENTS }, async (_, k) => expectOk(await oneShot(fresh.port, storeFrame(`rss-${round}-${k}`, data)), 'store')),
        );
      }
      const seconds = (now() - t0) / 1000;
      const mem = await memoryOf(fresh.proc.pid!);
      await stopChild(fresh);
      const storedMib = (rounds * RSS_CLIENTS * RSS_CHUNK_BYTES) / MIB;
      rows.push({
        figure: `peak RSS, ${RSS_CLIENTS} concurrent 64 MiB stores`,
        value: mem.hwm / MIB,
        unit: 'MiB',
        target: '< 512 MiB',
        met: mem.hwm < 512 * MIB,
        detail: `idle ${(idle.hwm / MIB).toFixed(0)} MiB; ${rounds} round(s)`,
      });
      disk64 ??= await diskBaseline(work, data, sampleMs, 1);
      const disk = disk64;
      rows.push({
        figure: `store 64 MiB, ${RSS_CLIENTS} concurrent connections`,
        value: storedMib / seconds,
        unit: 'MiB/s',
        baseline: 'write+fsync 64 MiB files',
        baselineValue: mibPerS(disk),
        ratio: storedMib / seconds / mibPerS(disk),
      });
    }
    rows.push({ figure: 'peak RSS of the server over the throughput run', value: mainMem.hwm / MIB, unit: 'MiB' });

    if (wants('auth')) {
      const authChildren: Child[] = [];
      rows.push(
        ...(await authComparison({
          work,
          rounds: args.quick ? 2 : 4,
          storeMs: 1000,
          pairMs,
          start: async (dataDir, serverId, extra) => {
            const child = await startServer(dataDir, serverId, [], extra);
            children.push(child);
            authChildren.push(child);
            return child.port;
          },
          log,
        })),
      );
      await Promise.all(authChildren.map(stopChild));
    }

    const total = (now() - started) / 1000;
    printTable(rows, total);
    if (args.json) {
      const report = {
        date: new Date().toISOString(),
        node: process.version,
        cpus: cpus().length,
        quick: args.quick,
        seconds: total,
        rows,
      };
      await writeFile(args.json, `${JSON.stringify(report, null, 2)}\n`);
      log(`wrote ${args.json}`);
    }
  } finally {
    await cleanup();
  }
}

function fmt(n: number): string {
  if (!Number.isFinite(n)) return '-';
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}

function printTable(rows: Row[], seconds: number): void {
  const header = ['figure', 'value', 'unit', 'baseline', 'ratio', 'target', 'detail'];
  const body = rows.map((r) => [
    r.figure,
    fmt(r.value),
    r.unit,
    r.baseline ? `${fmt(r.baselineValue!)} (${r.baseline})` : '',
    r.ratio === undefined ? '' : `${(r.ratio * 100).toFixed(0)} %`,
    r.target ? `${r.target} ${r.met ? 'MET' : 'NOT MET'}` : '',
    r.detail ?? '',
  ]);
  const out = [header, header.map(() => '---'), ...body].map((cells) => `| ${cells.join(' | ')} |`);
  process.stdout.write(`${out.join('\n')}\n\n${cpus().length} CPUs, Node ${process.version}, ${seconds.toFixed(0)} s\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
