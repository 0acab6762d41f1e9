// The processes a benchmark measures (servers, the baseline peer), started and stopped the same
// way by every figure group.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

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
