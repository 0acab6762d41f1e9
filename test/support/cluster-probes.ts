// What a cluster looks like from outside: the master's view (live servers, cluster_status,
// holders, metadata) and what the servers really hold, with waits on them.
import { call, type Reply } from './frames.js';
import { waitFor } from './waits.js';

/** The master's live chunk servers (get_chunk_servers without a client). */
export async function liveServers(masterPort: number): Promise<string[]> {
  const r = await call(masterPort, { command: 'get_chunk_servers' });
  return r.servers as string[];
}

/** Waits until the master lists exactly the given servers (in any order). */
export function waitForServers(masterPort: number, expected: string[], timeoutMs?: number): Promise<string[]> {
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

export async function status(masterPort: number): Promise<Reply> {
  const r = await call(masterPort, { command: 'cluster_status' });
  if (r.status !== 'ok') throw new Error(`cluster_status: ${r.message}`);
  return r;
}

/** Waits until every one of `addresses` is live and has sent this master its full chunk report. */
export function waitForReports(masterPort: number, addresses: string[], timeoutMs?: number): Promise<true> {
  return waitFor(`${addresses.length} servers live and reported`, async () => {
    const rows = (await status(masterPort)).servers as Reply[];
    const ready = rows.filter((r) => addresses.includes(r.address) && r.state === 'live' && r.reports);
    return ready.length === addresses.length ? true : undefined;
  }, timeoutMs, 100);
}

/** The master's whole get_chunk_locations reply (holders, primary, lease end). */
export function chunkLocations(masterPort: number, file: string, chunkId: string): Promise<Reply> {
  return call(masterPort, { command: 'get_chunk_locations', file_path: file, chunk_id: chunkId });
}

export async function locations(masterPort: number, file: string, chunkId: string): Promise<string[]> {
  return (await chunkLocations(masterPort, file, chunkId)).locations as string[];
}

export function portOf(address: string): number {
  return Number(address.slice(address.lastIndexOf(':') + 1));
}

/** The chunk's bytes on the server at `address`, or null when it has none (or is unreachable). */
export async function bytesOn(address: string, chunkId: string): Promise<Buffer | null> {
  try {
    const r = await call(portOf(address), { command: 'retrieve_chunk', chunk_id: chunkId });
    return r.status === 'ok' ? Buffer.from(r.data as Buffer) : null;
  } catch {
    return null;
  }
}

/**
 * Waits until every chunk has `factor` holders listed by the master, each a live server
 * (not in `gone`) that really holds the expected bytes.
 */
export async function waitAtFactor(
  masterPort: number,
  file: string,
  chunks: ReadonlyMap<string, Buffer>,
  factor: number,
  gone: ReadonlySet<string> = new Set(),
  timeoutMs = 180_000,
): Promise<Map<string, string[]>> {
  return waitFor('every chunk back at the factor', async () => {
    const out = new Map<string, string[]>();
    for (const [id, data] of chunks) {
      const where = (await locations(masterPort, file, id)).filter((a) => !gone.has(a));
      if (where.length < factor) return undefined;
      for (const a of where.slice(0, factor)) if (!(await bytesOn(a, id))?.equals(data)) return undefined;
      out.set(id, where);
    }
    return out;
  }, timeoutMs, 200);
}
