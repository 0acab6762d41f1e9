import type { Location, Nodes, SpaceInfo } from '../nodes.js';
import type { ServerState } from '../replica-policy.js';

/** The fields of a file's metadata the view reads (the reference's FileMetadata names). */
export interface FileRecord {
  total_size: number;
  chunk_ids: string[];
  chunk_locations: Record<string, string[]>;
  chunk_offsets: Record<string, number>;
  last_chunk_id: string | null;
}

/** What the view reads of the master's namespace, whichever store holds it. */
export interface NamespaceReader {
  readonly size: number;
  get(filePath: string): FileRecord | null;
  list(): string[];
}

export type ChunkHealth = 'at_factor' | 'under_replicated' | 'lost';

export interface ServerRow {
  address: string;
  /** null for a holder named in the namespace that never registered with this master. */
  x: number | null;
  y: number | null;
  state: ServerState;
  total: number | null;
  used: number | null;
  /** Chunk copies the namespace places on this server. */
  chunks: number;
  /** When this master last heard the server's heartbeat (ms since the epoch); null if it never did. */
  last_heartbeat_ms: number | null;
  /** Decommissioning only: chunks still to be copied elsewhere before the server may go (0: it may). */
  decommission_remaining?: number;
}

export interface ClientView {
  client_id: string;
  x: number;
  y: number;
}

export interface FileSummary {
  path: string;
  size: number;
  chunks: number;
  /** Live copies over all its chunks: changes whenever a holder comes or goes. */
  live_copies: number;
  health: ChunkHealth;
}

export interface ChunkRow {
  index: number;
  chunk_id: string;
  size: number;
  holders: Array<{ address: string; state: ServerState }>;
  live_copies: number;
  health: ChunkHealth;
}

export interface ClusterTotals {
  servers: Record<ServerState, number>;
  clients: number;
  files: number;
  chunks: number;
  chunksByHealth: Record<ChunkHealth, number>;
  capacity: { total: number; used: number; free: number };
}

interface Seen {
  location: Location;
  space: SpaceInfo | null;
  /** Null for a member remembered across a restart that has not beaten since. */
  lastBeatMs: number | null;
}

/** A server's state, decommission progress and (when cluster_status gives them) place and space, keyed by address. */
type States = ReadonlyMap<string, { state: ServerState; remaining?: number; seen?: Seen }>;

const STATES: readonly ServerState[] = ['live', 'dead', 'decommissioning'];

// A walk of the whole namespace (copies per server, chunks by health) is reused for this
// many times as long as it took: with 100,000 files a walk takes seconds, and the event
// stream asks four times a second. A walk quicker than SCAN_REUSE_MIN_MS is never reused, so
// a small namespace is always shown as it is this instant.
const SCAN_REUSE_FACTOR = 10;
const SCAN_REUSE_MIN_MS = 50;

/** What the state needs from a walk of every file. */
interface Scan {
  copies: Map<string, number>;
  chunks: number;
  byHealth: Record<ChunkHealth, number>;
}

/** The servers' rows of a cluster_status reply as a lookup; rows of unknown shape are skipped. */
export function statesOf(status: Record<string, unknown>): States {
  const out = new Map<string, { state: ServerState; remaining?: number; seen?: Seen }>();
  const rows = Array.isArray(status.servers) ? (status.servers as unknown[]) : [];
  for (const row of rows) {
    const r = row as Record<string, unknown>;
    if (typeof r.address !== 'string' || !STATES.includes(r.state as ServerState)) continue;
    const seen = seenOf(r);
    out.set(r.address, { state: r.state as ServerState, ...(typeof r.decommission_remaining === 'number' ? { remaining: r.decommission_remaining } : {}), ...(seen ? { seen } : {}) });
  }
  return out;
}

function seenOf(r: Record<string, unknown>): Seen | undefined {
  const loc = r.location;
  if (!Array.isArray(loc) || loc.length !== 2 || !loc.every((n) => typeof n === 'number')) return undefined;
  const s = r.space_info as Record<string, unknown> | null | undefined;
  const space = s && typeof s.total === 'number' && typeof s.used === 'number' ? { total: s.total, used: s.used } : null;
  return { location: [loc[0] as number, loc[1] as number], space, lastBeatMs: typeof r.last_seen === 'number' ? r.last_seen : null };
}

/**
 * What the console and the master's metrics show, read from the master's own state. The
 * registry forgets a server once it misses its heartbeats; this view keeps every server it
 * saw live, and every member cluster_status lists (the master remembers them across its
 * restarts), so a dead one stays on the map, marked dead, until it comes back or is forgotten
 * (forget_server: cluster_status no longer lists it).
 */
export class ClusterView {
  private readonly seen = new Map<string, Seen>();
  private scanned: { until: number; scan: Scan } | null = null;

  constructor(
    private readonly nodes: Nodes,
    private readonly meta: NamespaceReader,
    readonly replicationFactor: number,
    /** The master's cluster_status: each server's state (live, dead, decommissioning) is its word. */
    private readonly clusterStatus: () => Record<string, unknown>,
  ) {}

  private states(): States {
    return statesOf(this.clusterStatus());
  }

  /** A server cluster_status does not list is dead unless the registry has it live. */
  private stateOf(states: States, address: string): ServerState {
    return states.get(address)?.state ?? (this.nodes.isLive(address) ? 'live' : 'dead');
  }

  /** Records the servers live now; called on a timer and before every read. */
  refresh(): void {
    for (const s of this.nodes.live()) this.seen.set(s.address, { location: s.location, space: s.space, lastBeatMs: s.lastBeatMs });
  }

  /** The namespace walked, or the last walk while it is recent for its cost (SCAN_REUSE_FACTOR). */
  private scan(states: States): Scan {
    const started = Date.now();
    if (this.scanned && started < this.scanned.until) return this.scanned.scan;
    const scan: Scan = { copies: new Map(), chunks: 0, byHealth: { at_factor: 0, under_replicated: 0, lost: 0 } };
    for (const path of this.meta.list()) {
      const meta = this.meta.get(path);
      if (!meta) continue;
      for (const id of meta.chunk_ids) for (const a of meta.chunk_locations[id] ?? []) scan.copies.set(a, (scan.copies.get(a) ?? 0) + 1);
      for (const c of this.chunks(meta, states)) {
        scan.chunks++;
        scan.byHealth[c.health]++;
      }
    }
    const now = Date.now();
    this.scanned = now - started >= SCAN_REUSE_MIN_MS ? { until: now + SCAN_REUSE_FACTOR * (now - started), scan } : null;
    return scan;
  }

  servers(states = this.states()): ServerRow[] {
    this.refresh();
    for (const [address, s] of states) if (s.seen && !this.seen.has(address)) this.seen.set(address, s.seen);
    for (const address of [...this.seen.keys()]) if (!states.has(address)) this.seen.delete(address);
    const { copies } = this.scan(states);
    const out: ServerRow[] = [];
    for (const [address, s] of this.seen) {
      const state = this.stateOf(states, address);
      const remaining = states.get(address)?.remaining;
      out.push({
        address,
        x: s.location[0],
        y: s.location[1],
        state,
        total: s.space?.total ?? null,
        used: s.space?.used ?? null,
        chunks: copies.get(address) ?? 0,
        last_heartbeat_ms: s.lastBeatMs,
        ...(state === 'decommissioning' && remaining !== undefined ? { decommission_remaining: remaining } : {}),
      });
    }
    for (const [address, n] of copies) {
      if (this.seen.has(address)) continue;
      out.push({ address, x: null, y: null, state: this.stateOf(states, address), total: null, used: null, chunks: n, last_heartbeat_ms: null });
    }
    return out.sort((a, b) => a.address.localeCompare(b.address));
  }

  /** The first `limit` registered clients. */
  clients(limit = Infinity): ClientView[] {
    return this.nodes.clientList(limit).map((c) => ({ client_id: c.client_id, x: c.location[0], y: c.location[1] }));
  }

  files(prefix = ''): FileSummary[] {
    return this.summaries(this.meta.list().filter((p) => p.startsWith(prefix)).sort());
  }

  /** Every path in the namespace, unsorted (folder listings work from it). */
  paths(): string[] {
    return this.meta.list();
  }

  /** The files named, in that order; a path deleted meanwhile is left out. */
  summaries(paths: readonly string[]): FileSummary[] {
    const states = this.states();
    const out: FileSummary[] = [];
    for (const path of paths) {
      const meta = this.meta.get(path);
      if (!meta) continue;
      const chunks = this.chunks(meta, states);
      const live_copies = chunks.reduce((n, c) => n + c.live_copies, 0);
      out.push({ path, size: meta.total_size, chunks: chunks.length, live_copies, health: worst(chunks.map((c) => c.health)) });
    }
    return out;
  }

  /** One file with its chunks, or null when there is no such file. */
  file(path: string): { path: string; size: number; health: ChunkHealth; chunks: ChunkRow[] } | null {
    const meta = this.meta.get(path);
    if (!meta) return null;
    const chunks = this.chunks(meta, this.states());
    return { path, size: meta.total_size, health: worst(chunks.map((c) => c.health)), chunks };
  }

  totals(): ClusterTotals {
    const states = this.states();
    const servers = this.servers(states);
    const { chunks, byHealth } = this.scan(states);
    // Capacity is that of the servers new chunks should go to: a decommissioning one is leaving.
    const live = servers.filter((s) => s.state === 'live');
    const total = live.reduce((n, s) => n + (s.total ?? 0), 0);
    const used = live.reduce((n, s) => n + (s.used ?? 0), 0);
    const count = (state: ServerState): number => servers.filter((s) => s.state === state).length;
    return {
      servers: { live: live.length, dead: count('dead'), decommissioning: count('decommissioning') },
      clients: this.nodes.clientCount,
      files: this.meta.size,
      chunks,
      chunksByHealth: { ...byHealth },
      capacity: { total, used, free: live.reduce((n, s) => n + Math.max(0, (s.total ?? 0) - (s.used ?? 0)), 0) },
    };
  }

  /**
   * As cluster_status counts them: a copy on a decommissioning server can be read but does not
   * count towards the factor; a chunk is lost when no holder is up at all.
   */
  private chunks(meta: FileRecord, states: States): ChunkRow[] {
    return meta.chunk_ids.map((chunk_id, index) => {
      const holders = (meta.chunk_locations[chunk_id] ?? []).map((address) => ({ address, state: this.stateOf(states, address) }));
      const live = holders.filter((h) => h.state === 'live').length;
      const up = holders.filter((h) => h.state !== 'dead').length;
      const health: ChunkHealth = up === 0 ? 'lost' : live < this.replicationFactor ? 'under_replicated' : 'at_factor';
      return { index, chunk_id, size: meta.chunk_offsets[chunk_id] ?? 0, holders, live_copies: live, health };
    });
  }
}

const ORDER: ChunkHealth[] = ['at_factor', 'under_replicated', 'lost'];

function worst(healths: ChunkHealth[]): ChunkHealth {
  return healths.reduce<ChunkHealth>((w, h) => (ORDER.indexOf(h) > ORDER.indexOf(w) ? h : w), 'at_factor');
}
