// Read-only views of the namespace and the servers, built from the master's replies.
import { runBounded } from './bounded.js';
import { GfsError } from './errors.js';
import type { MasterApi } from './master-api.js';

export interface FileEntry {
  readonly path: string;
  readonly size: number;
  readonly chunks: number;
}

export interface ChunkStat {
  readonly index: number;
  readonly chunk_id: string;
  readonly size: number;
  readonly holders: Array<{ address: string; live: boolean }>;
}

export interface FileStat {
  readonly path: string;
  readonly size: number;
  readonly chunks: ChunkStat[];
}

export interface ServerEntry {
  readonly address: string;
  readonly location: [number, number] | null;
  /** Bytes; null until the server's first heartbeat with its space. */
  readonly used: number | null;
  readonly total: number | null;
  readonly live: boolean;
  /** live or down; the master's own word (e.g. decommissioning) when it gives one. */
  readonly state: string;
  /** Chunks the master counts on it, when it says. */
  readonly chunks: number | null;
}

// Metadata requests in flight at once while listing.
const LIST_CONCURRENCY = 8;

export async function listFiles(master: MasterApi, prefix: string): Promise<FileEntry[]> {
  const paths = (await master.listFiles()).filter((p) => p.startsWith(prefix)).sort();
  const out: FileEntry[] = [];
  let i = 0;
  await runBounded(async () => paths[i++] ?? null, LIST_CONCURRENCY, async (path) => {
    const meta = await master.metadata(path);
    // Removed between the listing and now: not there any more.
    if (meta) out.push({ path, size: meta.total_size, chunks: meta.chunk_ids.length });
  });
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export async function inspectFile(master: MasterApi, remote: string): Promise<FileStat> {
  const [meta, live] = await Promise.all([master.metadata(remote), master.liveServers()]);
  if (!meta) throw new GfsError('file_not_found', `no such file: ${remote}`);
  const liveSet = new Set(live);
  return {
    path: remote,
    size: meta.total_size,
    chunks: meta.chunk_ids.map((chunkId, index) => ({
      index,
      chunk_id: chunkId,
      size: Number(meta.chunk_offsets[chunkId] ?? 0),
      holders: (meta.chunk_locations[chunkId] ?? []).map((address) => ({ address, live: liveSet.has(address) })),
    })),
  };
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function loc(v: unknown): [number, number] | null {
  return Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number') ? [v[0] as number, v[1] as number] : null;
}

/**
 * From cluster_status when the master has it (its `servers` list, dead ones included),
 * else from get_graph_data, which shows live servers only.
 */
export async function listServers(master: MasterApi): Promise<ServerEntry[]> {
  const status = await master.raw({ command: 'cluster_status' });
  if (status.status === 'ok' && Array.isArray(status.servers)) {
    return (status.servers as Array<Record<string, unknown>>)
      .filter((s) => typeof s?.address === 'string')
      .map((s) => {
        const space = (s.space_info ?? s.space ?? {}) as Record<string, unknown>;
        const live = typeof s.live === 'boolean' ? s.live : s.state === undefined || s.state === 'live';
        return {
          address: s.address as string,
          location: loc(s.location),
          used: num(s.used ?? space.used),
          total: num(s.total ?? space.total),
          live,
          state: typeof s.state === 'string' ? s.state : live ? 'live' : 'down',
          chunks: num(s.chunks),
        };
      })
      .sort((a, b) => (a.address < b.address ? -1 : 1));
  }
  const nodes = await master.graph();
  return nodes
    .filter((n) => n.type === 'chunk_server')
    .map((n) => ({ address: n.id, location: loc(n.location), used: num(n.space_info?.used), total: num(n.space_info?.total), live: true, state: 'live', chunks: null }))
    .sort((a, b) => (a.address < b.address ? -1 : 1));
}
