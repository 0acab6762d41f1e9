// The processes of the etcd benchmark: a three-member etcd (Debian's /usr/bin/etcd) and masters
// over it, all on 127.0.0.1, each master on a port fixed before it starts so that chunk servers
// and clients keep its address across a kill -9 and a restart.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { GfsClient } from '../src/client/index.js';
import { MASTER_BIN, startChild, type Child } from './children.js';

export const ETCD_BIN = '/usr/bin/etcd';
const START_TIMEOUT_MS = 120_000;

/** A port free a moment ago, for a child to bind. */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

export interface Etcd {
  endpoints: string[];
  procs: ChildProcess[];
  stop(): void;
}

async function answers(endpoints: string[]): Promise<boolean> {
  const client = new Etcd3({ hosts: endpoints, defaultCallOptions: () => ({ deadline: Date.now() + 2000 }) });
  try {
    await client.get('probe').string();
    return true;
  } catch {
    return false;
  } finally {
    client.close();
  }
}

/** `size` etcd members with their data under `dir`; resolves once the cluster answers a read. */
export async function startEtcd(dir: string, size: number): Promise<Etcd> {
  const ports: { client: number; peer: number }[] = [];
  for (let i = 0; i < size; i++) ports.push({ client: await freePort(), peer: await freePort() });
  const initial = ports.map((p, i) => `e${i + 1}=http://127.0.0.1:${p.peer}`).join(',');
  const procs = ports.map((p, i) => {
    const client = `http://127.0.0.1:${p.client}`;
    const peer = `http://127.0.0.1:${p.peer}`;
    const args = ['--name', `e${i + 1}`, '--data-dir', join(dir, `etcd-e${i + 1}`), '--listen-client-urls', client, '--advertise-client-urls', client];
    args.push('--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', initial, '--initial-cluster-state', 'new', '--log-level', 'error');
    // --log-level error still prints raft's elections on stderr: not wanted among the figures.
    return spawn(ETCD_BIN, args, { stdio: 'ignore' });
  });
  const endpoints = ports.map((p) => `http://127.0.0.1:${p.client}`);
  const stop = (): void => procs.forEach((p) => p.exitCode === null && p.signalCode === null && p.kill('SIGKILL'));
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await answers(endpoints))) {
    if (Date.now() > deadline) {
      stop();
      throw new Error(`etcd at ${endpoints.join(',')} did not answer`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { endpoints, procs, stop };
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
