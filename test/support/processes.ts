// Our programs as real child processes: servers started until they listen, stopped as an
// operator would; commands run to their exit.
import { spawn, type ChildProcess, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { BIN, GFS_BIN, MASTER_BIN, ROOT } from './paths.js';
import type { Teardown } from './temp.js';
import { DEADLINE_MS } from './waits.js';

export interface ChildServer {
  readonly proc: ChildProcess;
  readonly port: number;
  /** `127.0.0.1:<port>`, as servers and masters name each other. */
  readonly address: string;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves with the exit code (or the signal name). */
  readonly exited: Promise<number | string>;
}

/**
 * Starts `node bin ...args` (under `wrapper`, such as strace, when given). tap's spawn
 * wrapper adds its coverage hooks, so what the child runs of dist/ counts (through source
 * maps) towards the coverage of src/ -- provided the child exits on its own (see stopChild).
 */
function spawnBin(args: string[], cwd: string, bin: string, wrapper: string[] = [], env: Record<string, string> = {}): ChildProcessByStdio<null, Readable, Readable> {
  const argv = [process.execPath, bin, ...args];
  return spawn(wrapper[0] ?? argv[0]!, [...wrapper.slice(1), ...(wrapper.length > 0 ? argv : argv.slice(1))], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
}

/** How long a child may take to stop after SIGTERM before it is deemed stuck and SIGKILLed. */
export const STOP_GRACE_MS = 15_000;

/**
 * Stops a child as an operator would: SIGCONT (a test may have stopped it), SIGTERM, and
 * SIGKILL only if it has not exited within `graceMs`. A child that exits by itself writes
 * its coverage; one that is SIGKILLed does not. Resolves with how it ended.
 */
export async function stopChild(proc: ChildProcess, exited: Promise<number | string>, graceMs = STOP_GRACE_MS): Promise<number | string> {
  if (proc.exitCode !== null || proc.signalCode !== null) return exited;
  proc.kill('SIGCONT');
  proc.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<'stuck'>((res) => (timer = setTimeout(() => res('stuck'), graceMs)));
  const how = await Promise.race([exited, stuck]);
  clearTimeout(timer);
  if (how !== 'stuck') return how;
  process.stderr.write(`# child ${proc.pid} did not stop within ${graceMs} ms of SIGTERM; SIGKILL\n`);
  proc.kill('SIGKILL');
  return exited;
}

export interface SpawnOptions {
  /** A hang guard: start-up on a loaded machine takes many seconds, so keep it long. */
  readonly listenTimeoutMs?: number;
  /** A command the server runs under, such as `['strace', '-f', ...]`. */
  readonly wrapper?: string[];
  /** Added to the child's environment (a fail point, MASTER_FAIL_AT). */
  readonly env?: Record<string, string>;
}

/**
 * Runs one of our servers as a real child process; resolves once its log says `listening`
 * (a pino line with the bound `address`), however long that takes under load. Stopped
 * gracefully at teardown (stopChild).
 */
export async function spawnListening(t: Teardown, bin: string, args: string[], cwd: string, listening: string, opts: SpawnOptions = {}): Promise<ChildServer> {
  const { listenTimeoutMs = DEADLINE_MS, wrapper = [], env = {} } = opts;
  const proc = spawnBin(['--host', '127.0.0.1', '--log_level', 'info', ...args], cwd, bin, wrapper, env);
  let out = '';
  let err = '';
  proc.stderr.on('data', (c) => (err += c));
  const exited = new Promise<number | string>((res) => proc.once('exit', (code, signal) => res(code ?? signal ?? -1)));
  t.teardown(() => stopChild(proc, exited));
  const pattern = new RegExp(`"address":"[^"]*:(\\d+)"[^\\n]*"msg":"${listening}"`);
  const port = await new Promise<number>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`${listening}: not in ${listenTimeoutMs} ms: ${out}${err}`)), listenTimeoutMs);
    proc.stdout.on('data', (c) => {
      out += c;
      const m = pattern.exec(out);
      if (m) {
        clearTimeout(timer);
        res(Number(m[1]));
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      rej(new Error(`exited (${code}) before "${listening}": ${out}${err}`));
    });
  });
  return { proc, port, address: `127.0.0.1:${port}`, exited, stdout: () => out, stderr: () => err };
}

/** Runs bin/chunkserver; resolves once it listens. */
export function spawnServer(t: Teardown, args: string[], cwd: string, opts: SpawnOptions = {}): Promise<ChildServer> {
  return spawnListening(t, BIN, args, cwd, 'chunk server listening', opts);
}

/** Runs bin/master; resolves once it listens. */
export function spawnMaster(t: Teardown, args: string[], cwd: string, opts: SpawnOptions = {}): Promise<ChildServer> {
  return spawnListening(t, MASTER_BIN, args, cwd, 'master listening', opts);
}

export interface Run {
  /** The exit code, the signal name, or why it could not start. */
  readonly code: number | string;
  readonly stdout: Buffer;
  readonly stderr: string;
}

export interface RunOptions {
  readonly cwd?: string;
  readonly input?: Buffer;
  readonly env?: NodeJS.ProcessEnv;
  /** A hang guard: the child is SIGKILLed after it. */
  readonly timeoutMs?: number;
}

/** Runs `command args` to its exit, with `input` on stdin. */
export function runToExit(command: string, args: string[], o: RunOptions = {}): Promise<Run> {
  return new Promise((resolve) => {
    const proc = spawn(command, args, { cwd: o.cwd ?? ROOT, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...o.env } });
    const out: Buffer[] = [];
    let stderr = '';
    proc.stdout.on('data', (c: Buffer) => out.push(c));
    proc.stderr.on('data', (c) => (stderr += c));
    proc.stdin.on('error', () => undefined);
    proc.stdin.end(o.input ?? Buffer.alloc(0));
    const timer = setTimeout(() => proc.kill('SIGKILL'), o.timeoutMs ?? DEADLINE_MS);
    proc.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: `spawn failed: ${err.message}`, stdout: Buffer.concat(out), stderr });
    });
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal ?? -1, stdout: Buffer.concat(out), stderr });
    });
  });
}

export interface TextRun {
  readonly code: number | string;
  readonly stdout: string;
  readonly stderr: string;
}

/** runToExit for commands whose output is text. */
export async function runText(command: string, args: string[], o: RunOptions = {}): Promise<TextRun> {
  const r = await runToExit(command, args, o);
  return { ...r, stdout: r.stdout.toString() };
}

/** A run of one of our servers to its exit: `code` null when a signal ended it (a crash point, the hang guard). */
export interface ServerRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

async function runServerToExit(bin: string, args: string[], cwd: string): Promise<ServerRun> {
  const r = await runText(process.execPath, [bin, ...args], { cwd });
  return { ...r, code: typeof r.code === 'number' ? r.code : null };
}

/** Runs bin/chunkserver to its exit (for flags that make it stop). */
export function runCli(args: string[], cwd: string): Promise<ServerRun> {
  return runServerToExit(BIN, args, cwd);
}

/** Runs bin/master to its exit (for flags that make it stop). */
export function runMaster(args: string[], cwd: string): Promise<ServerRun> {
  return runServerToExit(MASTER_BIN, args, cwd);
}

/** Runs `gfs ...args` to its exit, with no master from the environment. */
export function runGfs(args: string[], o: RunOptions = {}): Promise<Run> {
  return runToExit(process.execPath, [GFS_BIN, ...args], { ...o, env: { GFS_MASTER: '', ...o.env } });
}
