// `npm run bench:client`: the gfs command against baselines measured in the same run, on a
// local cluster of a master and three chunk servers (child processes, 127.0.0.1 only).
//   put: `gfs put` of one file vs the disk's write+fsync rate / replication factor (every
//        replica lands on this one disk), target >= 0.6 of that.
//   get: `gfs get` of it vs a loopback baseline (the same bytes, in chunk-sized replies with
//        as many in flight, from a peer that sends them from memory), target >= 0.7.
//   rss: the gfs process's peak resident set during each, target <= 256 MiB.
//   small files and appends through the client library (small-bench.ts); `--small` runs only
//   those, `--cpu-prof DIR` profiles the master and the chunk servers.
import { spawn } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { call } from '../src/net/rpc.js';
import { join } from 'node:path';
import { BufferPool } from '../src/wire/buffer-pool.js';
import { BenchConn, requestFrame } from './bench-client.js';
import { smallFigures } from './small-bench.js';
import type { TargetRow } from './row.js';
import { listening, MASTER_BIN, PEER_JS, ROOT, SERVER_BIN, startChild, stopChild, type Child } from './children.js';

const MIB = 1024 * 1024;
const GFS_JS = join(ROOT, 'dist', 'cli', 'gfs.js');
const REPLICATION = 3;
const CHUNK_BYTES = 64_000_000;
const CONCURRENCY = 4;
const RSS_LIMIT = 256 * MIB;

interface Args {
  sizeMib: number;
  dir: string | null;
  json: string | null;
  /** Only the small-file and append figures (small-bench.ts), not the large put and get. */
  small: boolean;
  /** Run the master and the chunk servers under node --cpu-prof, profiles written here. */
  cpuProf: string | null;
  /** How long each small-file and append figure runs, in s. */
  seconds: number;
}

function usage(message: string): never {
  process.stderr.write(`bench-gfs: ${message}\nusage: npm run bench:client -- [--size MIB (default 1024)] [--dir DIR] [--json FILE] [--small] [--seconds S (default 5)] [--cpu-prof DIR]\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): Args {
  const args: Args = { sizeMib: 1024, dir: null, json: null, small: false, cpuProf: null, seconds: 5 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => argv[++i] ?? usage(`${a} needs a value`);
    if (a === '--size') args.sizeMib = Number(value());
    else if (a === '--dir') args.dir = value();
    else if (a === '--json') args.json = value();
    else if (a === '--small') args.small = true;
    else if (a === '--seconds') args.seconds = Number(value());
    else if (a === '--cpu-prof') args.cpuProf = value();
    else usage(`unknown argument ${a}`);
  }
  if (!Number.isInteger(args.sizeMib) || args.sizeMib < 1) usage('--size must be a whole number of MiB');
  return args;
}

const log = (s: string): void => void process.stderr.write(`bench-gfs: ${s}\n`);

async function startCluster(dir: string, sizeBytes: number, nodeArgs: string[]): Promise<{ master: Child; servers: Child[] }> {
  await writeFile(join(dir, 'master.toml'), `[master]\nreplication_factor = ${REPLICATION}\nheartbeat_interval = 1\n`);
  await writeFile(join(dir, 'chunk.toml'), '[chunk_server]\nheartbeat_interval = 1\nlog_level = "warn"\n');
  const master = await startChild([...nodeArgs, MASTER_BIN, '--config', 'master.toml', '--host', '127.0.0.1', '--port', '0', '--metadata', 'meta.json', '--log_level', 'info'], listening('master listening'), 'master', { cwd: dir, startTimeoutMs: 30_000 });
  const spaceMib = Math.ceil((sizeBytes * 1.5) / MIB) + 256;
  const servers: Child[] = [];
  for (const id of ['b1', 'b2', 'b3']) {
    const cwd = join(dir, id);
    await mkdir(cwd);
    servers.push(
      await startChild(
        [...nodeArgs, SERVER_BIN, '--config', '../chunk.toml', '--server_id', id, '--data_dir', 'data', '--host', '127.0.0.1', '--master', `127.0.0.1:${master.port}`, '--space', String(spaceMib), '--log_level', 'info'],
        listening('chunk server listening'),
        `chunk server ${id}`,
        { cwd, startTimeoutMs: 30_000 },
      ),
    );
  }
  // Every server registered: get_chunk_servers lists three.
  for (let i = 0; ; i++) {
    if ((await countServers(master.port)) === 3) break;
    if (i > 300) throw new Error('chunk servers did not register');
    await new Promise((r) => setTimeout(r, 100));
  }
  return { master, servers };
}

async function countServers(port: number): Promise<number> {
  const r = await call(`127.0.0.1:${port}`, { command: 'get_chunk_servers' }, { connectTimeoutMs: 2000, idleTimeoutMs: 5000 }, new BufferPool(0));
  return Array.isArray(r.servers) ? r.servers.length : 0;
}

/** Writes `bytes` of random data (distinct chunks: no two share an id) and fsyncs; returns MiB/s. */
async function writeSource(path: string, bytes: number): Promise<number> {
  const block = Buffer.allocUnsafe(MIB);
  const fh = await open(path, 'w');
  const start = process.hrtime.bigint();
  try {
    for (let done = 0; done < bytes; done += block.length) {
      randomFillSync(block);
      await fh.write(block, 0, Math.min(block.length, bytes - done));
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  return bytes / MIB / (Number(process.hrtime.bigint() - start) / 1e9);
}

/** write+fsync of `bytes` from one reused buffer (no random fill in the timing). */
async function diskBaseline(path: string, bytes: number): Promise<number> {
  const block = Buffer.alloc(MIB, 0x5a);
  const fh = await open(path, 'w');
  const start = process.hrtime.bigint();
  try {
    for (let done = 0; done < bytes; done += block.length) await fh.write(block, 0, Math.min(block.length, bytes - done));
    await fh.sync();
  } finally {
    await fh.close();
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await rm(path, { force: true });
  return bytes / MIB / seconds;
}

/** The same bytes a get moves, from the loopback peer: chunk-sized replies, one connection each, CONCURRENCY in flight. */
async function loopbackBaseline(port: number, bytes: number): Promise<number> {
  let next = 0;
  const start = process.hrtime.bigint();
  const worker = async (): Promise<void> => {
    while (next < bytes) {
      const n = Math.min(CHUNK_BYTES, bytes - next);
      next += n;
      const conn = await BenchConn.open(port);
      const r = await conn.request(requestFrame({ size: n }));
      conn.close();
      if (r.dataBytes !== n) throw new Error(`baseline peer sent ${r.dataBytes} of ${n} bytes`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return bytes / MIB / (Number(process.hrtime.bigint() - start) / 1e9);
}

/** Runs the gfs command in its own process; returns MiB/s and that process's peak RSS. */
async function timedGfs(args: string[], bytes: number, cwd: string): Promise<{ rate: number; peakRss: number; seconds: number; cpuSeconds: number }> {
  // The real CLI, with its peak RSS (getrusage maxrss, KiB) printed as it exits.
  const script = `import(${JSON.stringify(GFS_JS)}).then((m) => m.main(${JSON.stringify(['node', 'gfs', ...args])})).then((code) => { const u = process.resourceUsage(); process.stderr.write('\\nRSS ' + u.maxRSS + ' CPU ' + (u.userCPUTime + u.systemCPUTime) + '\\n'); process.exitCode = code; });`;
  const start = process.hrtime.bigint();
  const proc = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (c) => (stderr += c));
  const code = await new Promise<number | null>((res) => proc.once('exit', (c) => res(c)));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (code !== 0) throw new Error(`gfs ${args.join(' ')} failed (${code}): ${stderr}`);
  const kib = Number(/RSS (\d+)/.exec(stderr)?.[1] ?? NaN);
  const cpuUs = Number(/CPU (\d+)/.exec(stderr)?.[1] ?? NaN);
  return { rate: bytes / MIB / seconds, peakRss: kib * 1024, seconds, cpuSeconds: cpuUs / 1e6 };
}

type Row = TargetRow;

/** The 1 GiB put and get through the gfs command, beside dd-like write+fsync and loopback TCP. */
async function largeFigures(args: Args, dir: string, masterPort: number, children: Child[]): Promise<{ rows: Row[]; notes: string[]; disk: number; loop: number }> {
  const bytes = args.sizeMib * MIB;
  log(`writing a ${args.sizeMib} MiB source file`);
  const source = join(dir, 'source.bin');
  await writeSource(source, bytes);
  log('disk baseline: write+fsync of the same size');
  const disk = await diskBaseline(join(dir, 'baseline.bin'), bytes);
  const gfs = ['--master', `127.0.0.1:${masterPort}`, '--quiet'];
  log('gfs put');
  const put = await timedGfs([...gfs, 'put', source, '/bench.bin'], bytes, dir);
  log('gfs get');
  const get = await timedGfs([...gfs, 'get', '/bench.bin', join(dir, 'back.bin')], bytes, dir);
  await rm(join(dir, 'back.bin'), { force: true });
  log('loopback baseline');
  const peer = await startChild([PEER_JS], (line) => (line.startsWith('{"port"') ? (JSON.parse(line) as { port: number }).port : null), 'baseline peer', { cwd: dir, startTimeoutMs: 30_000 });
  children.push(peer);
  const loop = await loopbackBaseline(peer.port, bytes);
  const perReplica = disk / REPLICATION;
  const rows: Row[] = [
    { figure: `gfs put ${args.sizeMib} MiB`, value: put.rate, unit: 'MiB/s', baseline: `write+fsync ÷ ${REPLICATION} replicas`, baselineValue: perReplica, ratio: put.rate / perReplica, target: '>= 0.6', met: put.rate / perReplica >= 0.6 },
    { figure: `gfs get ${args.sizeMib} MiB`, value: get.rate, unit: 'MiB/s', baseline: 'loopback TCP, same replies', baselineValue: loop, ratio: get.rate / loop, target: '>= 0.7', met: get.rate / loop >= 0.7 },
    { figure: 'gfs put peak RSS', value: put.peakRss / MIB, unit: 'MiB', baseline: 'limit', baselineValue: RSS_LIMIT / MIB, ratio: put.peakRss / RSS_LIMIT, target: '<= 1', met: put.peakRss <= RSS_LIMIT },
    { figure: 'gfs get peak RSS', value: get.peakRss / MIB, unit: 'MiB', baseline: 'limit', baselineValue: RSS_LIMIT / MIB, ratio: get.peakRss / RSS_LIMIT, target: '<= 1', met: get.peakRss <= RSS_LIMIT },
  ];
  const notes = [
    `disk write+fsync ${disk.toFixed(0)} MiB/s; chunk ${CHUNK_BYTES} bytes, ${CONCURRENCY} in flight, replication ${REPLICATION}`,
    `gfs CPU: put ${put.cpuSeconds.toFixed(1)} s of ${put.seconds.toFixed(1)} s, get ${get.cpuSeconds.toFixed(1)} s of ${get.seconds.toFixed(1)} s (process start included)`,
  ];
  return { rows, notes, disk, loop };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const dir = await mkdtemp(join(args.dir ?? tmpdir(), 'bench-gfs-'));
  const children: Child[] = [];
  try {
    log('starting a master and three chunk servers');
    const nodeArgs = args.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', args.cpuProf] : [];
    const { master, servers } = await startCluster(dir, args.small ? 256 * MIB : args.sizeMib * MIB, nodeArgs);
    children.push(master, ...servers);
    const large = args.small ? null : await largeFigures(args, dir, master.port, children);
    const rows: Row[] = [...(large?.rows ?? []), ...(await smallFigures(`127.0.0.1:${master.port}`, join(dir, 'small'), args.seconds * 1000, log))];
    const cells = rows.map((r) => [r.figure, r.value.toFixed(1), r.unit, `${r.baselineValue.toFixed(1)} (${r.baseline})`, r.ratio.toFixed(3), r.target, r.met ? 'met' : 'NOT met', r.detail ?? '']);
    const header = ['figure', 'value', 'unit', 'baseline', 'ratio', 'target', '', 'detail'];
    const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
    for (const line of [header, ...cells]) process.stdout.write(line.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd() + '\n');
    for (const note of large?.notes ?? []) process.stdout.write(`${note}\n`);
    if (args.json) await writeFile(args.json, JSON.stringify({ disk: large?.disk ?? null, loopback: large?.loop ?? null, rows }, null, 2));
  } finally {
    await Promise.all(children.map(stopChild));
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench-gfs: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
