// Configuration of the processes under test: TOML files with short beats and timeouts, and
// ports chosen before a process starts.
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** Heartbeat interval used by cluster tests, in seconds: short, so the suite stays fast. */
export const BEAT_S = 0.3;

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
