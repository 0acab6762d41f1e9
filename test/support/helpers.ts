// Test fixtures: temp dirs, in-process and child-process chunk servers, and a framing client
// that speaks the wire protocol independently of the server's own codec.
import { spawn, type ChildProcess, type ChildProcessByStdio } from 'node:child_process';
import { Writable, type Readable } from 'node:stream';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Packr, Unpackr } from 'msgpackr';
import { pino } from 'pino';
import { startChunkServer, type ChunkServer } from '../../src/chunk-server/main.js';
import { DEFAULTS, type ChunkServerConfig } from '../../src/config/chunk-server.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(ROOT, 'bin', 'chunkserver');
export const MIB = 1024 * 1024;

type T = { teardown(fn: () => unknown): void };

export async function tempDir(t: T, prefix = 'chunkserver-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export function testConfig(dataDir: string, over: Partial<ChunkServerConfig> = {}): ChunkServerConfig {
  return {
    ...DEFAULTS,
    serverId: 'test1',
    host: '127.0.0.1',
    port: 0,
    dataDir,
    logLevel: 'silent',
    master: { ...DEFAULTS.master, enabled: false },
    ...over,
  };
}

/** A chunk server in this process, stopped at teardown. */
export async function startServer(t: T, over: Partial<ChunkServerConfig> = {}, dataDir?: string): Promise<ChunkServer> {
  const dir = dataDir ?? (await tempDir(t));
  const server = await startChunkServer(testConfig(dir, over), pino({ level: 'silent' }));
  t.teardown(() => server.stop());
  return server;
}

export type LogLine = Record<string, any>;

/** An in-process server whose log lines (at `level` and above) are kept for inspection. */
export async function startLoggedServer(
  t: T,
  dataDir: string,
  over: Partial<ChunkServerConfig> = {},
  level = 'debug',
): Promise<{ server: ChunkServer; logs: LogLine[] }> {
  const logs: LogLine[] = [];
  const sink = new Writable({
    write(line, _enc, done) {
      logs.push(JSON.parse(String(line)));
      done();
    },
  });
  const server = await startChunkServer(testConfig(dataDir, over), pino({ level }, sink));
  t.teardown(() => server.stop());
  return { server, logs };
}

/** Damages one byte of a file in place, as bit rot or a stray writer would. */
export async function flipByte(path: string, at: number): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, at);
    b[0] ^= 0x5a;
    await fh.write(b, 0, 1, at);
  } finally {
    await fh.close();
  }
}

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ int64AsType: 'number', mapsAsObjects: true, useRecords: false });

export function frame(obj: unknown): Buffer {
  const body = packr.pack(obj);
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32BE(body.length);
  return Buffer.concat([prefix, body]);
}

export type Reply = Record<string, any>;

/**
 * A client connection that reads replies frame by frame. `next()` resolves with the next
 * reply, or null when the server closed the connection.
 */
export class Client {
  private chunks: Buffer[] = [];
  private waiters: Array<(r: Reply | null) => void> = [];
  private ready: Reply[] = [];
  ended = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (c: Buffer) => {
      this.chunks.push(c);
      this.total += c.length;
      this.parse();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.ended = true;
      for (const w of this.waiters.splice(0)) w(null);
    });
  }

  static async connect(port: number, t?: T): Promise<Client> {
    const socket = connect({ host: '127.0.0.1', port });
    await new Promise<void>((res, rej) => {
      socket.once('connect', res);
      socket.once('error', rej);
    });
    const client = new Client(socket);
    t?.teardown(() => socket.destroy());
    return client;
  }

  private total = 0;

  // Copies each reply once, when all of it has arrived (64 MiB replies must not be re-glued per read).
  private parse(): void {
    while (this.total >= 4) {
      if (this.chunks[0]!.length < 4) this.chunks = [Buffer.concat(this.chunks)];
      const len = this.chunks[0]!.readUInt32BE(0);
      if (this.total < 4 + len) return;
      const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
      const reply = unpackr.unpack(all.subarray(4, 4 + len)) as Reply;
      const rest = all.subarray(4 + len);
      this.chunks = rest.length ? [rest] : [];
      this.total = rest.length;
      const w = this.waiters.shift();
      if (w) w(reply);
      else this.ready.push(reply);
    }
  }

  send(obj: unknown): void {
    this.socket.write(frame(obj));
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  next(): Promise<Reply | null> {
    const r = this.ready.shift();
    if (r) return Promise.resolve(r);
    if (this.ended) return Promise.resolve(null);
    return new Promise((res) => this.waiters.push(res));
  }

  async call(obj: unknown): Promise<Reply> {
    this.send(obj);
    const reply = await this.next();
    if (!reply) throw new Error('connection closed before reply');
    return reply;
  }

  /** Resolves when the server has closed the connection. */
  closed(): Promise<void> {
    if (this.ended) return Promise.resolve();
    return new Promise((res) => this.socket.once('close', () => res()));
  }

  close(): void {
    this.socket.destroy();
  }
}

/** One request on its own connection, as the reference clients do. */
export async function call(port: number, obj: unknown): Promise<Reply> {
  const c = await Client.connect(port);
  try {
    return await c.call(obj);
  } finally {
    c.close();
  }
}

export interface ChildServer {
  readonly proc: ChildProcess;
  readonly port: number;
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
function spawnBin(args: string[], cwd: string, bin = BIN, wrapper: string[] = []): ChildProcessByStdio<null, Readable, Readable> {
  const argv = [process.execPath, bin, ...args];
  return spawn(wrapper[0] ?? argv[0]!, [...wrapper.slice(1), ...(wrapper.length > 0 ? argv : argv.slice(1))], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
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
  readonly listenTimeoutMs?: number;
  /** A command the server runs under, such as `['strace', '-f', ...]`. */
  readonly wrapper?: string[];
}

/**
 * Runs one of our servers as a real child process; resolves once its log says `listening`
 * (a pino line with the bound `address`). Stopped gracefully at teardown (stopChild).
 */
export async function spawnListening(t: T, bin: string, args: string[], cwd: string, listening: string, opts: SpawnOptions | number = {}): Promise<ChildServer> {
  const { listenTimeoutMs = 20_000, wrapper = [] } = typeof opts === 'number' ? { listenTimeoutMs: opts } : opts;
  const proc = spawnBin(['--host', '127.0.0.1', '--log_level', 'info', ...args], cwd, bin, wrapper);
  let out = '';
  let err = '';
  proc.stderr.on('data', (c) => (err += c));
  const exited = new Promise<number | string>((res) => proc.once('exit', (code, signal) => res(code ?? signal ?? -1)));
  t.teardown(() => stopChild(proc, exited));
  const pattern = new RegExp(`"address":"[^"]*:(\\d+)"[^\\n]*"msg":"${listening}"`);
  const port = await new Promise<number>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`${listening}: not in time: ${out}${err}`)), listenTimeoutMs);
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
  return { proc, port, exited, stdout: () => out, stderr: () => err };
}

/** Runs bin/chunkserver as a real child process; resolves once it listens. Stopped gracefully at teardown. */
export function spawnServer(t: T, args: string[], cwd: string, opts: SpawnOptions | number = {}): Promise<ChildServer> {
  return spawnListening(t, BIN, args, cwd, 'chunk server listening', opts);
}

/** Runs the CLI to completion (for argument errors); resolves with status and output. */
export function runCli(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const proc = spawnBin(args, cwd);
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c) => (stdout += c));
    proc.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      res({ code, stdout, stderr });
    });
  });
}

export function bytes(n: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}
