// Fixtures for cluster tests: a real master and real chunk servers as child processes,
// free ports, config files, and bounded polling.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { pino } from 'pino';
import { MASTER_DEFAULTS, type MasterConfig } from '../../src/config/master.js';
import { startMaster, type Master } from '../../src/master/main.js';
import { call, ROOT, spawnListening, spawnServer, type ChildServer, type Reply } from './helpers.js';

export const MASTER_BIN = join(ROOT, 'bin', 'master');

/** Runs bin/master with `args` to its exit (killed after 20 s as a hang guard): for flags that make it stop. */
export function runMaster(args: string[], cwd: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((res) => {
    const proc = spawn(process.execPath, [MASTER_BIN, ...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      res({ code, stderr });
    });
  });
}

type T = { teardown(fn: () => unknown): void };

/** Heartbeat interval used by cluster tests, in seconds: short, so the suite stays fast. */
export const BEAT_S = 0.3;

export interface ChildMaster {
  readonly proc: ChildProcess;
  readonly port: number;
  readonly address: string;
  readonly stdout: () => string;
  readonly exited: Promise<number | string>;
}

/** A port that was free a moment ago (for a master that must start later on a known port). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** Writes a TOML config into `dir` and returns its path. */
export async function writeToml(dir: string, name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

/** Master config for tests: fast beats and re-replication passes. `beatS` sets when servers are dropped (2x). */
export function masterToml(o: { beatS?: number; extra?: string } = {}): string {
  return `[master]\nheartbeat_interval = ${o.beatS ?? BEAT_S}\nreplication_interval = 0.3\n${o.extra ?? ''}`;
}

/** Chunk server config for tests: fast beats, short timeouts. */
export function chunkToml(o: { beatS?: number; masterTimeoutS?: number; extra?: string } = {}): string {
  return `[chunk_server]\nheartbeat_interval = ${o.beatS ?? BEAT_S}\nconnect_timeout_s = 1\nmaster_timeout_s = ${o.masterTimeoutS ?? 2}\npeer_timeout_s = 10\n${o.extra ?? ''}`;
}

/** Runs bin/master as a child process; resolves once it listens. Stopped gracefully at teardown. */
export async function spawnMaster(t: T, args: string[], cwd: string, listenTimeoutMs = 20_000): Promise<ChildMaster> {
  const m = await spawnListening(t, MASTER_BIN, args, cwd, 'master listening', { listenTimeoutMs });
  return { proc: m.proc, port: m.port, address: `127.0.0.1:${m.port}`, stdout: m.stdout, exited: m.exited };
}

export interface ChunkOptions {
  readonly id: string;
  readonly master: number;
  readonly config: string;
  readonly x?: number;
  readonly y?: number;
  readonly spaceMb?: number;
  readonly extra?: string[];
}

/** A chunk server joined to the master on `master` port, data under `<cwd>/data`. */
export async function spawnChunk(t: T, cwd: string, o: ChunkOptions): Promise<ChildServer & { address: string }> {
  const args = ['--config', o.config, '--server_id', o.id, '--data_dir', 'data', '--master', `127.0.0.1:${o.master}`];
  args.push('--x', String(o.x ?? 0), '--y', String(o.y ?? 0), '--space', String(o.spaceMb ?? 64), ...(o.extra ?? []));
  const s = await spawnServer(t, args, cwd);
  return { ...s, address: `127.0.0.1:${s.port}` };
}

/** Polls `probe` until it returns a value other than undefined; fails after `timeoutMs`, a hang guard, never a claim about speed. */
export async function waitFor<V>(what: string, probe: () => Promise<V | undefined>, timeoutMs = 30_000, everyMs = 50): Promise<V> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The master's live chunk servers (get_chunk_servers without a client). */
export async function liveServers(masterPort: number): Promise<string[]> {
  const r = await call(masterPort, { command: 'get_chunk_servers' });
  return r.servers as string[];
}

/** Waits until the master lists exactly the given servers (in any order). */
export function waitForServers(masterPort: number, expected: string[], timeoutMs = 30_000): Promise<string[]> {
  const want = [...expected].sort().join(',');
  return waitFor(`servers ${want}`, async () => {
    const got = await liveServers(masterPort);
    return [...got].sort().join(',') === want ? got : undefined;
  }, timeoutMs);
}

export async function fileMetadata(masterPort: number, filePath: string): Promise<Reply | null> {
  const r = await call(masterPort, { command: 'get_file_metadata', file_path: filePath });
  return r.metadata as Reply | null;
}

/** A master in this process (fast to start; for tests of its commands), stopped at teardown. */
export async function startMasterHere(t: T, dir: string, over: Partial<MasterConfig> = {}): Promise<Master> {
  const config: MasterConfig = {
    ...MASTER_DEFAULTS,
    host: '127.0.0.1',
    port: 0,
    heartbeatIntervalS: BEAT_S,
    replicationIntervalS: 0.3,
    metadataFile: join(dir, 'metadata', 'metadata.json'),
    logLevel: 'silent',
    ...over,
  };
  if (over.deadAfterS === undefined) config.deadAfterS = 2 * config.heartbeatIntervalS;
  const master = await startMaster(config, pino({ level: 'silent' }));
  t.teardown(() => master.stop());
  return master;
}
