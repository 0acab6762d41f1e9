// The processes a benchmark measures (servers, the baseline peer), started and stopped the same
// way by every figure group.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

// Compiled to dist-bench/bench/: the repository is two levels up.
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SERVER_BIN = join(ROOT, 'bin', 'chunkserver');
export const MASTER_BIN = join(ROOT, 'bin', 'master');
export const PEER_JS = join(ROOT, 'dist-bench', 'bench', 'peer.js');

export interface Child {
  proc: ChildProcess;
  port: number;
  exited: Promise<void>;
}

/** Starts `node ...cmd`; resolves once `portOf` finds the port in a line it printed. */
export async function startChild(cmd: string[], portOf: (line: string) => number | null, what: string, o: { cwd?: string; startTimeoutMs?: number } = {}): Promise<Child> {
  const proc = spawn(process.execPath, cmd, { cwd: o.cwd, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((res) => proc.once('exit', () => res()));
  const lines = createInterface({ input: proc.stdout! });
  const port = await new Promise<number>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`${what} did not start`)), o.startTimeoutMs ?? 20_000);
    lines.on('line', (line) => {
      const p = portOf(line);
      if (p !== null) {
        clearTimeout(timer);
        res(p);
      }
    });
    void exited.then(() => rej(new Error(`${what} exited before listening`)));
  });
  return { proc, port, exited };
}

/** SIGTERM, so the server flushes and exits; SIGKILL only if it is stuck. */
export async function stopChild(child: Child): Promise<void> {
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  child.proc.kill('SIGTERM');
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), 30_000);
  await child.exited;
  clearTimeout(timer);
}

/** Finds the port in our servers' pino line `msg` (with the bound `address`). */
export const listening = (msg: string) => (line: string): number | null => {
  const m = new RegExp(`"address":"[^"]*:(\\d+)"[^\\n]*"msg":"${msg}"`).exec(line);
  return m ? Number(m[1]) : null;
};

/** A standalone chunk server (no master) with 1 TiB of space, under `nodeArgs` (a profiler). */
export function startServer(dataDir: string, serverId: string, nodeArgs: string[], serverArgs: string[]): Promise<Child> {
  const cmd = [...nodeArgs, SERVER_BIN, ...serverArgs, '--no_master', '--host', '127.0.0.1', '--port', '0', '--data_dir', dataDir];
  cmd.push('--server_id', serverId, '--space', String(1024 * 1024), '--log_level', 'info');
  return startChild(cmd, listening('chunk server listening'), 'chunk server');
}

/** The baseline peer (peer.ts): loopback TCP with no disk behind it. */
export function startPeer(): Promise<Child> {
  return startChild([PEER_JS], (line) => (line.startsWith('{"port"') ? (JSON.parse(line) as { port: number }).port : null), 'baseline peer');
}

/** Peak and current resident set of a process, in bytes (Linux /proc). */
export async function memoryOf(pid: number): Promise<{ hwm: number; rss: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { hwm: kb('VmHWM'), rss: kb('VmRSS') };
}

// Linux reports process CPU time in clock ticks of 1/100 s (USER_HZ) on every common platform.
const TICKS_PER_S = 100;

/** CPU time a process has used so far, in seconds: in user space and in the kernel. */
export async function cpuSecondsOf(pid: number): Promise<{ user: number; system: number }> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / TICKS_PER_S, system: Number(fields[12]) / TICKS_PER_S };
}
