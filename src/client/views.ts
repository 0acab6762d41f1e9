// Read-only views of the namespace and the servers, built from the master's replies.
import { runBounded } from './bounded.js';
import { GfsError } from './errors.js';
import type { MasterApi } from './master-api.js';
import { isUnder, joinPath, pathProblem } from '../paths.js';

export interface FileEntry {
  readonly path: string;
  readonly size: number;
  readonly chunks: number;
}

export type HolderState = 'live' | 'decommissioning' | 'down';

export interface ChunkStat {
  readonly index: number;
  readonly chunk_id: string;
  readonly size: number;
  /** `state`: live, decommissioning (live, being emptied) or down. */
  readonly holders: Array<{ address: string; live: boolean; state: HolderState }>;
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
  /** For a server being decommissioned: chunks whose copy there is still needed, and the master's ETA in s (null: none yet). */
  readonly decommission: { chunks_left: number; eta_s: number | null } | null;
}

// Metadata requests in flight at once while listing.
const LIST_CONCURRENCY = 8;

/** A folder's listing: its files, and (unless recursive) the folders directly in it. */
export interface Listing {
  readonly files: FileEntry[];
  /** Paths of the folders directly in it, without a trailing slash; empty when recursive. */
  readonly folders: string[];
}

const byPath = (a: { path: string }, b: { path: string }): number => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/**
 * The namespace is flat: a folder is every path under `folder/`, never a string prefix.
 * Names from before the path rule (relative, a trailing slash...) are listed at the root,
 * whole, so they can still be found, read and removed. A folder that holds nothing but is
 * itself a file lists that file.
 */
export async function listFolder(master: MasterApi, folder: string, recursive: boolean): Promise<Listing> {
  const all = await master.listFiles();
  const paths: string[] = [];
  const folders = new Set<string>();
  for (const p of all) {
    if (pathProblem(p) !== null) {
      if (folder === '/') paths.push(p);
      continue;
    }
    if (!isUnder(p, folder)) continue;
    const rest = p.slice(folder === '/' ? 1 : folder.length + 1);
    const slash = rest.indexOf('/');
    if (recursive || slash < 0) paths.push(p);
    else folders.add(joinPath(folder, rest.slice(0, slash)));
  }
  if (paths.length === 0 && folders.size === 0 && all.includes(folder)) paths.push(folder);
  const files = await entries(master, paths);
  return { files, folders: [...folders].sort() };
}

async function entries(master: MasterApi, paths: readonly string[]): Promise<FileEntry[]> {
  const out: FileEntry[] = [];
  let i = 0;
  await runBounded(async () => paths[i++] ?? null, LIST_CONCURRENCY, async (path) => {
    const meta = await master.metadata(path);
    // Removed between the listing and now: not there any more.
    if (meta) out.push({ path, size: meta.total_size, chunks: meta.chunk_ids.length });
  });
  return out.sort(byPath);
}

export async function inspectFile(master: MasterApi, remote: string): Promise<FileStat> {
  const [meta, states] = await Promise.all([master.metadata(remote), master.serverStates()]);
  if (!meta) throw new GfsError('file_not_found', `no such file: ${remote}`);
  const holder = (address: string) => ({ address, live: states.has(address), state: states.get(address) ?? ('down' as const) });
  return {
    path: remote,
    size: meta.total_size,
    chunks: meta.chunk_ids.map((chunkId, index) => ({
      index,
      chunk_id: chunkId,
      size: Number(meta.chunk_offsets[chunkId] ?? 0),
      holders: (meta.chunk_locations[chunkId] ?? []).map(holder),
    })),
  };
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function loc(v: unknown): [number, number] | null {
  return Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number') ? [v[0] as number, v[1] as number] : null;
}

function progress(v: unknown): ServerEntry['decommission'] {
  const p = (v ?? {}) as Record<string, unknown>;
  const left = num(p.chunks_left);
  return left === null ? null : { chunks_left: left, eta_s: num(p.eta_s) };
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
          decommission: progress(s.decommission),
        };
      })
      .sort((a, b) => (a.address < b.address ? -1 : 1));
  }
  const nodes = await master.graph();
  return nodes
    .filter((n) => n.type === 'chunk_server')
    .map((n) => ({ address: n.id, location: loc(n.location), used: num(n.space_info?.used), total: num(n.space_info?.total), live: true, state: 'live', chunks: null, decommission: null }))
    .sort((a, b) => (a.address < b.address ? -1 : 1));
}
