// The gfs command as a user runs it: bin/gfs as a child process against a real cluster of
// child processes (a master and chunk servers, each in its own directory).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { chunkToml, masterToml, spawnChunk, spawnMaster, waitForServers, writeToml, type ChildMaster } from './cluster-helpers.js';
import { ROOT, tempDir, type ChildServer } from './helpers.js';

export const GFS_BIN = join(ROOT, 'bin', 'gfs');

type T = Parameters<typeof tempDir>[0];

export interface GfsRun {
  readonly code: number | string;
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** Runs `gfs ...args` to completion, with `input` on stdin; killed after `timeoutMs` (a hang guard). */
export function runGfs(args: string[], o: { cwd?: string; input?: Buffer; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<GfsRun> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [GFS_BIN, ...args], {
      cwd: o.cwd ?? ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, GFS_MASTER: '', ...o.env },
    });
    const out: Buffer[] = [];
    let stderr = '';
    proc.stdout.on('data', (c: Buffer) => out.push(c));
    proc.stderr.on('data', (c) => (stderr += c));
    proc.stdin.on('error', () => undefined);
    proc.stdin.end(o.input ?? Buffer.alloc(0));
    const timer = setTimeout(() => proc.kill('SIGKILL'), o.timeoutMs ?? 120_000);
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal ?? -1, stdout: Buffer.concat(out), stderr });
    });
  });
}

export interface TestCluster {
  readonly base: string;
  readonly master: ChildMaster;
  readonly servers: Array<ChildServer & { address: string; dir: string; id: string }>;
  /** `gfs --master <this master> ...args`. */
  gfs(args: string[], o?: Parameters<typeof runGfs>[1]): Promise<GfsRun>;
}

// Heartbeats every second: a loaded machine running the whole suite never misses two.
const BEAT_S = 1;

/** A master and `n` chunk servers (each `spaceMb`), all live before it resolves. */
export async function startCluster(t: T, o: { n?: number; spaceMb?: number; masterExtra?: string } = {}): Promise<TestCluster> {
  const base = await tempDir(t, 'gfs-test-');
  const master = await spawnMaster(t, ['--config', await writeToml(base, 'm.toml', masterToml({ beatS: BEAT_S, extra: o.masterExtra })), '--port', '0', '--metadata', 'meta.json'], base);
  const config = await writeToml(base, 'c.toml', chunkToml({ beatS: BEAT_S }));
  const ids = Array.from({ length: o.n ?? 3 }, (_, i) => `c${i + 1}`);
  const servers = await Promise.all(
    ids.map(async (id, i) => {
      const dir = await tempDir(t, `gfs-${id}-`);
      const s = await spawnChunk(t, dir, { id, master: master.port, config, x: 10 * (i + 1), y: 10, spaceMb: o.spaceMb ?? 64 });
      return { ...s, dir, id };
    }),
  );
  await waitForServers(master.port, servers.map((s) => s.address));
  return {
    base,
    master,
    servers,
    gfs: (args, opts) => runGfs(['--master', master.address, ...args], { cwd: base, ...opts }),
  };
}

/** Where a server keeps a chunk's file. */
export function chunkPath(s: { dir: string; id: string }, chunkId: string): string {
  return join(s.dir, 'data', s.id, chunkId);
}
