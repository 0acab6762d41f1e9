// The processes of the etcd benchmark: a three-member etcd (Debian's /usr/bin/etcd, started by
// the tests' own starter) and masters over it, all on 127.0.0.1, each master on a port fixed
// before it starts so that chunk servers and clients keep its address across a kill -9 and a restart.
import type { ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GfsClient } from '../src/client/index.js';
import { freePort } from '../test/support/configs.js';
import { startEtcd as startTestEtcd } from '../test/support/etcd.js';
import { MASTER_BIN, startChild, type Child } from './children.js';

const START_TIMEOUT_MS = 120_000;

export interface Etcd {
  endpoints: string[];
  procs: ChildProcess[];
  stop(): void;
}

/** `size` etcd members with their data under `dir`, started as the tests start them; resolves once the cluster answers a read. */
export async function startEtcd(dir: string, size: 1 | 3): Promise<Etcd> {
  const stops: Array<() => unknown> = [];
  const cluster = await startTestEtcd({ teardown: (fn) => void stops.push(fn) }, dir, size);
  return { endpoints: cluster.endpoints, procs: cluster.members.map((m) => m.proc), stop: () => stops.forEach((fn) => fn()) };
}

/** One master of several: its fixed port, its own namespace, and the running process (null while down). */
export interface Master {
  name: string;
  port: number;
  address: string;
  /** Its /metrics (master_etcd_journal_seconds). */
  httpPort: number;
  child: Child | null;
}

export async function masterConfig(dir: string, toml: string): Promise<string> {
  const path = join(dir, 'master.toml');
  await writeFile(path, toml);
  return path;
}

/** Starts (or restarts, on its old namespace) master `m` with the config at `config`. */
export async function startMaster(dir: string, config: string, m: Master, nodeArgs: string[] = []): Promise<void> {
  const args = [...nodeArgs, MASTER_BIN, '--config', config, '--host', '127.0.0.1', '--port', String(m.port), '--namespace', join(dir, m.name), '--metadata', join(dir, `${m.name}.json`), '--log_level', 'info', '--http_port', String(m.httpPort)];
  m.child = await startChild(args, (line) => (line.includes('"msg":"master listening"') ? m.port : null), `master ${m.name}`, { cwd: dir, startTimeoutMs: START_TIMEOUT_MS });
}

export async function newMasters(n: number): Promise<Master[]> {
  const out: Master[] = [];
  for (let i = 0; i < n; i++) {
    const port = await freePort();
    out.push({ name: `m${i + 1}`, port, address: `127.0.0.1:${port}`, httpPort: await freePort(), child: null });
  }
  return out;
}

/** Each master's role by master_status, as `gfs masters` shows it. */
async function roles(masters: Master[]): Promise<Map<string, string>> {
  const probe = new GfsClient({ master: masters.map((m) => m.address).join(','), timeoutMs: 2000, connectTimeoutMs: 1000 });
  try {
    return new Map((await probe.masters()).map((m) => [m.address, m.role]));
  } finally {
    probe.close();
  }
}

/** The master that says it leads; polls until one does. */
export async function leaderOf(masters: Master[], timeoutMs = START_TIMEOUT_MS): Promise<Master> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const known = await roles(masters).catch(() => new Map<string, string>());
    const leader = masters.find((m) => m.child && known.get(m.address) === 'leader');
    if (leader) return leader;
    if (Date.now() > deadline) throw new Error('no master leads');
    await new Promise((r) => setTimeout(r, 100));
  }
}
