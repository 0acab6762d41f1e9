// Several masters over etcd (issue 24's targets), `npm run bench:etcd`:
//   failover: three etcd members, three masters, three chunk servers on 127.0.0.1; puts and
//             appends through the client library without pause; kill -9 of the leader, the
//             time to the first put acknowledged by the new leader, over --kills kills:
//             median, min, max (target <= 10 s). Every acknowledged file and append is
//             checked afterwards.
//   update:   update_file_metadata (new files) from 8 clients: the leader of three masters
//             over a three-member etcd on this machine vs a single master on lmdb, both up
//             at once, sampled in alternating rounds: ratio (target >= 0.5).
//   node dist-bench/bench/etcd-bench.js [--quick] [--kills N] [--rounds R] [--seconds S]
//     [--only failover,update] [--ttl S] [--chunk-beat S] [--cpu-prof DIR] [--json FILE]
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { cpuSecondsOf, listening, MASTER_BIN, startChild, stopChild } from './children.js';
import { leaderOf, masterConfig, newMasters, startEtcd, startMaster } from './etcd-cluster.js';
import { measureFailover, type FailoverFigures } from './etcd-failover.js';
import { updates } from './master-load.js';
import { percentile } from './measure.js';

interface Args {
  kills: number;
  rounds: number;
  seconds: number;
  only: Set<string> | null;
  ttlS: number | null;
  chunkBeatS: number | null;
  cpuProf: string | null;
  json: string | null;
}

function usage(message: string): never {
  process.stderr.write(`etcd-bench: ${message}\nusage: npm run bench:etcd -- [--quick] [--kills N] [--rounds R] [--seconds S] [--only failover,update] [--ttl S] [--chunk-beat S] [--cpu-prof DIR] [--json FILE]\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): Args {
  const a: Args = { kills: 10, rounds: 4, seconds: 3, only: null, ttlS: null, chunkBeatS: null, cpuProf: null, json: null };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const value = (): string => argv[++i] ?? usage(`${k} needs a value`);
    if (k === '--quick') Object.assign(a, { kills: 3, rounds: 2, seconds: 2 });
    else if (k === '--kills') a.kills = Number(value());
    else if (k === '--rounds') a.rounds = Number(value());
    else if (k === '--seconds') a.seconds = Number(value());
    else if (k === '--only') a.only = new Set(value().split(','));
    else if (k === '--ttl') a.ttlS = Number(value());
    else if (k === '--chunk-beat') a.chunkBeatS = Number(value());
    else if (k === '--cpu-prof') a.cpuProf = resolve(value());
    else if (k === '--json') a.json = value();
    else usage(`unknown argument ${k}`);
  }
  if (!Number.isInteger(a.kills) || a.kills < 1) usage('--kills must be a whole number >= 1');
  return a;
}

const log = (s: string): void => void process.stderr.write(`etcd-bench: ${s}\n`);
const args = parseArgs(process.argv.slice(2));
const wants = (group: string): boolean => args.only === null || args.only.has(group);
const nodeArgs = args.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', args.cpuProf] : [];
const ttlToml = args.ttlS === null ? '' : `etcd_lease_ttl_s = ${args.ttlS}\n`;
const out: Record<string, unknown> = { node: process.version, at: new Date().toISOString(), cores: cpus().length, loadavgBefore: loadavg(), ttlS: args.ttlS ?? 'default', chunkBeatS: args.chunkBeatS ?? 'default' };

/** master_etcd_journal_seconds of a master's /metrics: committed transactions and their mean time. */
async function journalStats(httpPort: number): Promise<{ txns: number; meanMs: number }> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const num = (re: RegExp): number => Number(re.exec(text)?.[1] ?? NaN);
  const count = num(/master_etcd_journal_seconds_count\{outcome="committed"\} (\S+)/);
  const sum = num(/master_etcd_journal_seconds_sum\{outcome="committed"\} (\S+)/);
  return { txns: count, meanMs: (1000 * sum) / count };
}

/** CPU seconds (user + kernel) the processes have used so far. */
async function cpuOf(pids: number[]): Promise<number> {
  let total = 0;
  for (const pid of pids) {
    const c = await cpuSecondsOf(pid);
    total += c.user + c.system;
  }
  return total;
}

interface UpdateFigures {
  lmdb: number[];
  etcd: number[];
  journal: { txns: number; meanMs: number; ops: number };
  /** CPU per update, ms: of the lmdb master in its rounds; of the leader, the standbys and the etcd members in theirs. */
  cpuMsPerUpdate: { lmdb: number; leader: number; standbys: number; etcd: number };
}

async function measureUpdates(dir: string): Promise<UpdateFigures> {
  const single = join(dir, 'single');
  await mkdir(single, { recursive: true });
  await writeFile(join(single, 'master.toml'), '[master]\nreplication_interval = 3600\n');
  const lmdb = await startChild([...nodeArgs, MASTER_BIN, '--config', join(single, 'master.toml'), '--host', '127.0.0.1', '--port', '0', '--namespace', join(single, 'ns'), '--metadata', join(single, 'meta.json'), '--log_level', 'info'], listening('master listening'), 'lmdb master', { cwd: single, startTimeoutMs: 120_000 });
  const etcdDir = join(dir, 'etcd');
  await mkdir(etcdDir, { recursive: true });
  const etcd = await startEtcd(etcdDir, 3);
  const masters = await newMasters(3);
  try {
    const config = await masterConfig(etcdDir, `[master]\nreplication_interval = 3600\netcd_endpoints = [${etcd.endpoints.map((e) => JSON.stringify(e)).join(', ')}]\n${ttlToml}`);
    for (const m of masters) await startMaster(etcdDir, config, m, nodeArgs);
    const leader = await leaderOf(masters);
    const rates = { lmdb: [] as number[], etcd: [] as number[] };
    // A round not counted: connections, JIT, the first transactions on both.
    await updates(lmdb.port, 1, 'new', args.seconds / 2, 'w');
    await updates(leader.port, 1, 'new', args.seconds / 2, 'w');
    const before = await journalStats(leader.httpPort);
    const standbys = masters.filter((m) => m !== leader).map((m) => m.child!.proc.pid!);
    const etcdPids = etcd.procs.map((p) => p.pid!);
    const cpu = { lmdb: 0, leader: 0, standbys: 0, etcd: 0 };
    const timed = async <T>(run: () => Promise<T>, into: Array<[keyof typeof cpu, number[]]>): Promise<T> => {
      const at = await Promise.all(into.map(([, pids]) => cpuOf(pids)));
      const result = await run();
      for (const [i, [k, pids]] of into.entries()) cpu[k] += (await cpuOf(pids)) - at[i]!;
      return result;
    };
    let etcdOps = 0;
    let lmdbOps = 0;
    for (let r = 0; r < args.rounds; r++) {
      const lmdbDone = await timed(() => updates(lmdb.port, 1, 'new', args.seconds, `s${r}`), [['lmdb', [lmdb.proc.pid!]]]);
      lmdbOps += lmdbDone;
      rates.lmdb.push(lmdbDone / args.seconds);
      const ops = await timed(() => updates(leader.port, 1, 'new', args.seconds, `e${r}`), [['leader', [leader.child!.proc.pid!]], ['standbys', standbys], ['etcd', etcdPids]]);
      etcdOps += ops;
      rates.etcd.push(ops / args.seconds);
      log(`update round ${r + 1}/${args.rounds}: lmdb ${rates.lmdb.at(-1)!.toFixed(0)}/s, etcd ${rates.etcd.at(-1)!.toFixed(0)}/s`);
    }
    const after = await journalStats(leader.httpPort);
    const txns = after.txns - before.txns;
    const meanMs = (after.meanMs * after.txns - before.meanMs * before.txns) / txns;
    const perOp = (s: number, n: number): number => (1000 * s) / n;
    return { ...rates, journal: { txns, meanMs, ops: etcdOps }, cpuMsPerUpdate: { lmdb: perOp(cpu.lmdb, lmdbOps), leader: perOp(cpu.leader, etcdOps), standbys: perOp(cpu.standbys, etcdOps), etcd: perOp(cpu.etcd, etcdOps) } };
  } finally {
    await stopChild(lmdb);
    for (const m of masters) if (m.child) await stopChild(m.child);
    etcd.stop();
  }
}

const base = await mkdtemp(join(tmpdir(), 'etcd-bench-'));
try {
  if (wants('update')) {
    log(`update: 8 clients, ${args.rounds} rounds of ${args.seconds} s each side`);
    out.update = await measureUpdates(join(base, 'update'));
  }
  if (wants('failover')) {
    const chunkToml = args.chunkBeatS === null ? '' : `heartbeat_interval = ${args.chunkBeatS}\n`;
    const masterToml = ttlToml + (args.chunkBeatS === null ? '' : `heartbeat_interval = ${args.chunkBeatS}\n`);
    log(`failover: ${args.kills} kills of the leader under 4 putters and 4 appenders`);
    out.failover = await measureFailover(join(base, 'failover'), { kills: args.kills, putters: 4, appenders: 4, masterToml, chunkToml, nodeArgs, log });
  }
} finally {
  await rm(base, { recursive: true, force: true });
}

const mark = (ok: boolean): string => (ok ? 'MET' : 'NOT MET');
const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
const spread = (v: number[]): { median: number; min: number; max: number } => {
  const s = [...v].sort((a, b) => a - b);
  return { median: s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2, min: s[0]!, max: percentile(s, 100) };
};
const sec = (ms: number): string => (ms / 1000).toFixed(2);
const lines: string[] = [];
const setting = `lease TTL ${args.ttlS ?? 'default (5)'} s, chunk heartbeat ${args.chunkBeatS ?? 'default (5)'} s`;
if (out.failover) {
  const f = out.failover as FailoverFigures;
  const put = spread(f.kills.map((k) => k.putMs));
  const elected = spread(f.kills.map((k) => k.electedMs));
  const gap = spread(f.kills.map((k) => k.appendGapMs));
  out.failoverSpread = { put, elected, gap };
  lines.push(`failover, kill -9 of the leader to the first put acknowledged by the new leader, ${f.kills.length} kills: median ${sec(put.median)} s, min ${sec(put.min)} s, max ${sec(put.max)} s (target <= 10 s ${mark(put.max <= 10_000)}; ${setting})`);
  lines.push(`  new leader in master_status: median ${sec(elected.median)} s (${sec(elected.min)}-${sec(elected.max)}); longest pause between acknowledged appends: median ${sec(gap.median)} s (${sec(gap.min)}-${sec(gap.max)})`);
  lines.push(`  ${f.puts} puts of 64 KiB and ${f.appends} appends of 4 KiB acknowledged, ${f.failedOps} attempts failed and retried; acknowledged but missing afterwards: ${f.missing.length === 0 ? 'none' : f.missing.slice(0, 5).join('; ')}`);
}
if (out.update) {
  const u = out.update as UpdateFigures;
  const ratio = mean(u.etcd) / mean(u.lmdb);
  lines.push(`update_file_metadata, 8 clients, new files: etcd (3 members, leader of 3 masters) ${mean(u.etcd).toFixed(0)}/s, lmdb single master ${mean(u.lmdb).toFixed(0)}/s: ratio ${ratio.toFixed(2)} (target >= 0.5 ${mark(ratio >= 0.5)}; rounds ${u.etcd.map((x) => x.toFixed(0)).join('/')} vs ${u.lmdb.map((x) => x.toFixed(0)).join('/')})`);
  lines.push(`  journal transactions in etcd: ${u.journal.txns} for ${u.journal.ops} updates (${(u.journal.ops / u.journal.txns).toFixed(1)} per transaction), mean ${u.journal.meanMs.toFixed(1)} ms each`);
  const c = u.cpuMsPerUpdate;
  lines.push(`  CPU per update: lmdb master ${c.lmdb.toFixed(2)} ms; over etcd: leader ${c.leader.toFixed(2)} ms, two standbys ${c.standbys.toFixed(2)} ms, three etcd members ${c.etcd.toFixed(2)} ms`);
}
out.loadavgAfter = loadavg();
lines.push(`load average (1 min) before ${(out.loadavgBefore as number[])[0]!.toFixed(1)}, after ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`);
for (const l of lines) console.log(l);
if (args.json) await writeFile(args.json, JSON.stringify(out, null, 2));
