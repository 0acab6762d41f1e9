// Configuration of the processes under test: TOML files with short beats and timeouts, and
// ports chosen before a process starts.
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** Heartbeat interval used by cluster tests, in seconds: short, so the suite stays fast. */
export const BEAT_S = 0.3;

/** A port that was free a moment ago (for a master that must start later on a known port). */
// Ports handed out for a child to bind later come from below the kernel's ephemeral range
// (32768-60999 here): a port the kernel gives to someone's `listen(0)` or outgoing connection
// meanwhile can then never be the one we handed out, as it could when freePort took a port
// from listen(0) and released it.
const HANDED_OUT_LOW = 20_000;
const HANDED_OUT_HIGH = 32_767;

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A port on 127.0.0.1 that is free now, for a child process to bind. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = HANDED_OUT_LOW + Math.floor(Math.random() * (HANDED_OUT_HIGH - HANDED_OUT_LOW + 1));
    if (await bindable(port)) return port;
  }
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
