import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

// `<data_dir>/server_info.json`, as the reference keeps it: server_id -> {port, data_dir,
// last_start}, so a restarted server comes back on the port the master knows.

export interface ServerInfoEntry {
  port: number;
  data_dir: string;
  last_start: number;
}

async function readAll(file: string): Promise<Record<string, ServerInfoEntry>> {
  try {
    const parsed: unknown = JSON.parse(await readFile(file, 'utf8'));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, ServerInfoEntry>) : {};
  } catch {
    // Missing or unreadable: start a fresh record rather than refuse to start.
    return {};
  }
}

export async function recordedPort(file: string, serverId: string): Promise<number | null> {
  const entry = (await readAll(file))[serverId];
  const port = entry?.port;
  return typeof port === 'number' && Number.isInteger(port) && port > 0 && port <= 65535 ? port : null;
}

/**
 * Writes this server's entry, keeping the others. Re-read just before the atomic rename;
 * servers sharing a data_dir that start in the same millisecond could still race (last wins).
 */
export async function recordServer(file: string, serverId: string, entry: ServerInfoEntry): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const all = await readAll(file);
  all[serverId] = entry;
  const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  const fh = await open(temp, 'w', 0o644);
  try {
    await fh.writeFile(JSON.stringify(all, null, 2));
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(temp, file);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
}
