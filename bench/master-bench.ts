// Master benchmark (issue 11 targets), `npm run bench:master`:
//   update:  update_file_metadata from 8 clients (bin/master as a child process, TCP) with
//            N files already in the namespace vs 1,000 files: ratio >= 0.8. Two kinds:
//            new files, and rewrites of random existing files. Baseline and figure sampled
//            in alternating rounds, both masters up at once, so load hits both alike.
//   restart: time from spawn to the first get_file_metadata answered, and the master's RSS,
//            with N files (the first start on the loaded store, then again after kill -9).
//   lookup:  get_file_metadata / get_chunk_locations p99 in process (masterCommands.dispatch over the
//            master's own context: validation, handler, namespace and chunk map; no TCP),
//            before and after chunk reports of every chunk from 3 servers; target < 1 ms.
//            Over TCP too, for information.
//   heal:    kill -9 of a holder to every chunk back at the factor, 200 chunks, 5 servers.
// The namespace is loaded through the store directly, in one transaction per 50,000 files.
//   node dist-bench/bench/master-bench.js [--quick] [--files N] [--rounds R] [--seconds S]
//     [--only update,restart,lookup,heal] [--max-copies N] [--cpu-prof DIR] [--json FILE] [--dir DIR]
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { MASTER_DEFAULTS, type MasterConfig } from '../src/config/master.js';
import { masterCommands } from '../src/master/commands/index.js';
import { masterContext } from '../src/master/main.js';
import { Namespace, type FileMetadata } from '../src/master/namespace/namespace.js';
import { join, resolve } from 'node:path';
import { BenchConn, requestFrame } from './bench-client.js';
import { listening, MASTER_BIN, startChild, stopChild, type Child } from './children.js';
import { inProcessLookups, load, tcpLookups, updates, type Kind, type Lat } from './master-load.js';
import { measureHeal, type HealFigures } from './heal-bench.js';

const SMALL = 1000;

interface Args {
  files: number;
  rounds: number;
  seconds: number;
  samples: number;
  healChunks: number;
  maxCopies: number;
  only: Set<string> | null;
  cpuProf: string | null;
  json: string | null;
  dir: string | null;
}

function usage(message: string): never {
  process.stderr.write(
    `master-bench: ${message}\nusage: npm run bench:master -- [--quick] [--files N] [--rounds R] [--seconds S] [--only update,restart,lookup,heal] [--max-copies N] [--cpu-prof DIR] [--json FILE] [--dir DIR]\n`,
  );
  process.exit(2);
}

function parseArgs(argv: string[]): Args {
  const a: Args = { files: 1_000_000, rounds: 4, seconds: 2, samples: 20_000, healChunks: 200, maxCopies: MASTER_DEFAULTS.maxCopiesPerServer, only: null, cpuProf: null, json: null, dir: null };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const value = (): string => argv[++i] ?? usage(`${k} needs a value`);
    if (k === '--quick') Object.assign(a, { files: 50_000, rounds: 2, seconds: 1, samples: 5000 });
    else if (k === '--files') a.files = Number(value());
    else if (k === '--rounds') a.rounds = Number(value());
    else if (k === '--seconds') a.seconds = Number(value());
    else if (k === '--max-copies') a.maxCopies = Number(value());
    else if (k === '--only') a.only = new Set(value().split(','));
    else if (k === '--cpu-prof') a.cpuProf = resolve(value());
    else if (k === '--json') a.json = value();
    else if (k === '--dir') a.dir = value();
    else usage(`unknown argument ${k}`);
  }
  if (!Number.isInteger(a.files) || a.files < SMALL) usage(`--files must be a whole number >= ${SMALL}`);
  return a;
}

const log = (s: string): void => void process.stderr.write(`master-bench: ${s}\n`);
const args = parseArgs(process.argv.slice(2));
const wants = (group: string): boolean => args.only === null || args.only.has(group);

interface Started {
  child: Child;
  serveMs: number;
  rssMb: number;
  anonMb: number;
}

/** MiB; `file` is the part mapped from files (lmdb's pages, shared with the page cache), `anon` the heap and the rest. */
async function rssOf(pid: number): Promise<{ rss: number; hwm: number; anon: number; file: number }> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(text)?.[1] ?? 0) / 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM'), anon: kb('RssAnon'), file: kb('RssFile') };
}

/** Spawn to the first get_file_metadata answered. */
async function startMasterChild(dir: string, tag: string): Promise<Started> {
  const node = args.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', args.cpuProf] : [];
  const t0 = performance.now();
  const child = await startChild(
    [...node, MASTER_BIN, '--config', join(dir, 'master.toml'), '--host', '127.0.0.1', '--port', '0', '--metadata', join(dir, 'metadata.json'), '--log_level', 'info'],
    listening('master listening'),
    `master (${tag})`,
    { cwd: dir, startTimeoutMs: 120_000 },
  );
  const c = await BenchConn.open(child.port);
  const r = await c.request(requestFrame({ command: 'get_file_metadata', file_path: '/f/0' }));
  c.close();
  if (r.status !== 'ok') throw new Error(`get_file_metadata: ${r.message}`);
  const serveMs = performance.now() - t0;
  const m = await rssOf(child.proc.pid!);
  return { child, serveMs, rssMb: m.rss, anonMb: m.anon };
}

const fmtLat = (l: Lat, unit = 'us'): string => `p50 ${l.p50.toFixed(0)} ${unit}, p99 ${l.p99.toFixed(0)} ${unit}`;
const mark = (ok: boolean): string => (ok ? 'MET' : 'NOT MET');
const out: Record<string, unknown> = { files: args.files, node: process.version, at: new Date().toISOString(), loadavgBefore: loadavg() };

const base = args.dir ? resolve(args.dir) : await mkdtemp(join(tmpdir(), 'master-bench-'));
const smallDir = join(base, 'small');
const largeDir = join(base, 'large');
try {
  if (wants('update') || wants('restart') || wants('lookup')) {
    for (const d of [smallDir, largeDir]) {
      await rm(d, { recursive: true, force: true });
      await mkdir(d, { recursive: true });
      // No repair passes over the loaded chunks: nothing here reports them.
      await writeFile(join(d, 'master.toml'), '[master]\nreplication_interval = 3600\n');
    }
    log(`loading ${SMALL.toLocaleString('en')} and ${args.files.toLocaleString('en')} files through the store`);
    await load(smallDir, SMALL);
    const loadMs = await load(largeDir, args.files);
    out.loadMs = loadMs;
    log(`loaded ${args.files.toLocaleString('en')} files in ${(loadMs / 1000).toFixed(1)} s`);

    const small = await startMasterChild(smallDir, 'small');
    let large = await startMasterChild(largeDir, 'large');
    out.start = { small: { serveMs: small.serveMs, rssMb: small.rssMb, anonMb: small.anonMb }, large: { serveMs: large.serveMs, rssMb: large.rssMb, anonMb: large.anonMb } };
    try {
      if (wants('lookup')) {
        out.tcp = { small: await tcpLookups(small.child.port, SMALL, 2 * args.samples / 5), large: await tcpLookups(large.child.port, args.files, 2 * args.samples / 5) };
      }
      if (wants('update')) {
        const rates: Record<string, { small: number[]; large: number[] }> = { new: { small: [], large: [] }, existing: { small: [], large: [] } };
        // A round not counted: connections, JIT and lmdb's first write transactions on both.
        for (const kind of ['new', 'existing'] as const) {
          await updates(small.child.port, SMALL, kind, args.seconds / 2, 'w');
          await updates(large.child.port, args.files, kind, args.seconds / 2, 'w');
        }
        for (let r = 0; r < args.rounds; r++) {
          for (const kind of ['new', 'existing'] as const) {
            rates[kind]!.small.push((await updates(small.child.port, SMALL, kind, args.seconds, `s${r}`)) / args.seconds);
            rates[kind]!.large.push((await updates(large.child.port, args.files, kind, args.seconds, `l${r}`)) / args.seconds);
          }
          log(`update round ${r + 1}/${args.rounds}`);
        }
        out.update = rates;
        out.rssAfterUpdates = { small: await rssOf(small.child.proc.pid!), large: await rssOf(large.child.proc.pid!) };
      }
      if (wants('restart')) {
        large.child.proc.kill('SIGKILL');
        await large.child.exited;
        large = await startMasterChild(largeDir, 'large, after kill -9');
        out.restart = { serveMs: large.serveMs, rssMb: large.rssMb, anonMb: large.anonMb };
      }
    } finally {
      await stopChild(small.child);
      await stopChild(large.child);
    }
    if (wants('lookup')) out.inProcess = { small: await inProcessLookups(smallDir, SMALL, args.samples), large: await inProcessLookups(largeDir, args.files, args.samples) };
  }
  if (wants('heal')) {
    const healDir = join(base, 'heal');
    await mkdir(healDir, { recursive: true });
    log(`heal: ${args.healChunks} chunks on 5 servers, factor 3, kill -9 of the fullest holder`);
    out.heal = await measureHeal(healDir, { chunks: args.healChunks, heartbeatS: 1, deadAfterS: 2, replicationIntervalS: 1, maxCopiesPerServer: args.maxCopies });
  }
} finally {
  if (!args.dir) await rm(base, { recursive: true, force: true });
}

const n = args.files.toLocaleString('en');
const lines: string[] = [];
type Start = { serveMs: number; rssMb: number; anonMb: number };
type Starts = { small: Start; large: Start };
if (out.start) {
  const s = out.start as Starts;
  lines.push(`first start on the loaded store: ${SMALL.toLocaleString('en')} files served after ${s.small.serveMs.toFixed(0)} ms, RSS ${s.small.rssMb.toFixed(0)} MiB; ${n} files after ${s.large.serveMs.toFixed(0)} ms, RSS ${s.large.rssMb.toFixed(0)} MiB, of which ${s.large.anonMb.toFixed(0)} MiB not mapped from files (load through the store: ${((out.loadMs as number) / 1000).toFixed(1)} s)`);
}
if (out.update) {
  const u = out.update as Record<Kind, { small: number[]; large: number[] }>;
  const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
  for (const kind of ['new', 'existing'] as const) {
    const ratio = mean(u[kind].large) / mean(u[kind].small);
    const what = kind === 'new' ? 'new files' : 'rewrites of random existing files';
    lines.push(`update_file_metadata, 8 clients, ${what}: ${mean(u[kind].small).toFixed(0)}/s with ${SMALL.toLocaleString('en')} files, ${mean(u[kind].large).toFixed(0)}/s with ${n}: ratio ${ratio.toFixed(2)} (target >= 0.8 ${mark(ratio >= 0.8)}; rounds ${u[kind].large.map((x) => x.toFixed(0)).join('/')} vs ${u[kind].small.map((x) => x.toFixed(0)).join('/')})`);
  }
  const r = out.rssAfterUpdates as { small: { hwm: number }; large: { hwm: number } };
  lines.push(`master peak RSS over the update rounds: ${r.small.hwm.toFixed(0)} MiB (${SMALL.toLocaleString('en')} files), ${r.large.hwm.toFixed(0)} MiB (${n})`);
}
if (out.restart) {
  const r = out.restart as Start;
  lines.push(`master restart after kill -9 with ${n} files: first get_file_metadata answered ${r.serveMs.toFixed(0)} ms after spawn, RSS ${r.rssMb.toFixed(0)} MiB, of which ${r.anonMb.toFixed(0)} MiB not mapped from files`);
}
if (out.inProcess) {
  type In = { cold: { meta: Lat; locs: Lat }; reported: { meta: Lat; locs: Lat }; reportMs: number };
  const p = out.inProcess as { small: In; large: In };
  const ok = Math.max(p.large.cold.meta.p99, p.large.cold.locs.p99, p.large.reported.meta.p99, p.large.reported.locs.p99) < 1000;
  lines.push(`in process, ${n} files, before reports: get_file_metadata ${fmtLat(p.large.cold.meta)}, get_chunk_locations ${fmtLat(p.large.cold.locs)}`);
  lines.push(`in process, ${n} files, every chunk reported by 3 servers (${(p.large.reportMs / 1000).toFixed(1)} s to take the reports): get_file_metadata ${fmtLat(p.large.reported.meta)}, get_chunk_locations ${fmtLat(p.large.reported.locs)} (target p99 < 1 ms ${mark(ok)})`);
  lines.push(`in process, ${SMALL.toLocaleString('en')} files, reported: get_file_metadata ${fmtLat(p.small.reported.meta)}, get_chunk_locations ${fmtLat(p.small.reported.locs)}`);
}
if (out.tcp) {
  const tcp = out.tcp as { small: { meta: Lat; locs: Lat }; large: { meta: Lat; locs: Lat } };
  lines.push(`over TCP (one connection, sequential), ${n} files: get_file_metadata ${fmtLat(tcp.large.meta)}, get_chunk_locations ${fmtLat(tcp.large.locs)}; ${SMALL.toLocaleString('en')} files: ${fmtLat(tcp.small.meta)}, ${fmtLat(tcp.small.locs)}`);
}
if (out.heal) {
  const h = out.heal as HealFigures;
  lines.push(
    `heal: kill -9 of a holder of ${h.onVictim} of ${h.chunks} chunks (5 servers, factor 3) to every chunk back at the factor: ${(h.healMs / 1000).toFixed(1)} s ` +
      `(declared dead after ${(h.detectMs / 1000).toFixed(1)} s; heartbeat ${h.heartbeatS} s, dead_after_s ${h.deadAfterS}, replication_interval ${h.replicationIntervalS} s, max_copies_per_server ${h.maxCopiesPerServer}; locations checked: ${h.verified ? 'all at the factor' : 'SOME BELOW'})`,
  );
}
out.loadavgAfter = loadavg();
lines.push(`load average (1 min) before ${(out.loadavgBefore as number[])[0]!.toFixed(1)}, after ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`);
for (const l of lines) console.log(l);
if (args.json) await writeFile(args.json, JSON.stringify(out, null, 2));
