// Chunk servers and clients as the master sees them: where they are, how full, and whether
// they are still alive. Where new copies go is placement-policy.ts's, over the live servers
// read from here on demand, so a client registered a moment ago is ranked at once.

import { MSG, RequestError } from '../errors.js';
import { distance, type Location } from './location.js';

export type { Location };

export interface SpaceInfo {
  total: number;
  used: number;
}

export interface ServerNode {
  readonly address: string;
  location: Location;
  /** null until the first heartbeat that carries space_info. */
  space: SpaceInfo | null;
  lastBeatMs: number;
}

interface ClientNode {
  location: Location;
  lastBeatMs: number;
}

export interface NodesOptions {
  /** A server whose last beat is older than this is dead (dropped). */
  readonly deadAfterMs: number;
  readonly clientTimeoutMs: number;
  /** Registered clients at most (default MAX_CLIENTS); beyond it a new client is refused. */
  readonly maxClients?: number;
  /** Registered chunk servers at most (default MAX_SERVERS); beyond it a new server is refused. */
  readonly maxServers?: number;
  readonly now?: () => number;
}

/** A registration beyond the bound of its kind (protocol/PROTOCOL.md, limits). */
export class RegistrationFull extends RequestError {
  constructor(kind: 'clients' | 'servers') {
    super(kind === 'clients' ? MSG.tooManyClients : MSG.tooManyServers);
    this.name = 'RegistrationFull';
  }
}

// get_graph_data links each node to at most this many nearest chunk servers, so the graph
// grows linearly with the clients, never with their square.
export const GRAPH_NEIGHBOURS = 3;
export const MAX_CLIENTS = 10_000;
export const MAX_SERVERS = 1_000;
// get_graph_data hands the event loop back after this many nodes, so heartbeats keep being served.
const GRAPH_NODES_PER_TURN = 256;

export class Nodes {
  /** Map order is registration order, the reference's order when no client is known. */
  private readonly servers = new Map<string, ServerNode>();
  private readonly clients = new Map<string, ClientNode>();
  private readonly now: () => number;

  constructor(private readonly opts: NodesOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Records a server; true when it was not live before (new, or silent too long and back). */
  registerServer(address: string, location: Location | null): boolean {
    const known = this.servers.get(address);
    if (known) {
      const wasLive = this.isLive(address);
      if (location) known.location = location;
      known.lastBeatMs = this.now();
      return !wasLive;
    }
    if (this.servers.size >= (this.opts.maxServers ?? MAX_SERVERS)) throw new RegistrationFull('servers');
    this.servers.set(address, { address, location: location ?? [0, 0], space: null, lastBeatMs: this.now() });
    return true;
  }

  /** A heartbeat also registers an unknown server: it carries everything registration does. */
  heartbeat(address: string, location: Location | null, space: SpaceInfo | null): boolean {
    const isNew = this.registerServer(address, location);
    if (space) this.servers.get(address)!.space = space;
    return isNew;
  }

  registerClient(clientId: string, location: Location): void {
    if (!this.clients.has(clientId) && this.clients.size >= (this.opts.maxClients ?? MAX_CLIENTS)) throw new RegistrationFull('clients');
    this.clients.set(clientId, { location, lastBeatMs: this.now() });
  }

  /** False when the client is unknown and sent no location to register with. */
  clientHeartbeat(clientId: string, location: Location | null): boolean {
    const known = this.clients.get(clientId);
    if (known) {
      known.lastBeatMs = this.now();
      if (location) known.location = location;
      return true;
    }
    if (!location) return false;
    this.registerClient(clientId, location);
    return true;
  }

  isLive(address: string): boolean {
    const s = this.servers.get(address);
    return s !== undefined && this.now() - s.lastBeatMs <= this.opts.deadAfterMs;
  }

  server(address: string): ServerNode | undefined {
    return this.servers.get(address);
  }

  /** Live servers in registration order. */
  live(): ServerNode[] {
    return [...this.servers.values()].filter((s) => this.isLive(s.address));
  }

  /** Registered servers no longer live: the next sweep drops them. */
  silent(): ServerNode[] {
    return [...this.servers.values()].filter((s) => !this.isLive(s.address));
  }

  /** Registered clients and where they are (the console's map), the first `limit` in registration order. */
  clientList(limit = Infinity): Array<{ client_id: string; location: Location }> {
    const out: Array<{ client_id: string; location: Location }> = [];
    for (const [client_id, c] of this.clients) {
      if (out.length >= limit) break;
      out.push({ client_id, location: c.location });
    }
    return out;
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Forgets servers and clients whose last beat is too old; returns who was dropped. */
  sweep(): { servers: string[]; clients: string[] } {
    const now = this.now();
    const servers = [...this.servers.keys()].filter((a) => !this.isLive(a));
    for (const a of servers) this.servers.delete(a);
    const clients = [...this.clients].filter(([, c]) => now - c.lastBeatMs > this.opts.clientTimeoutMs).map(([id]) => id);
    for (const id of clients) this.clients.delete(id);
    return { servers, clients };
  }

  /** Where a registered client is; undefined for an unknown one (or none named). */
  clientLocation(clientId: string | null): Location | undefined {
    return clientId === null ? undefined : this.clients.get(clientId)?.location;
  }

  /**
   * get_graph_data, shaped as the reference's map view expects; edges join each node to its
   * GRAPH_NEIGHBOURS nearest live chunk servers (each pair once), at most 3 per node.
   */
  async graph(): Promise<Record<string, unknown>> {
    const servers = this.live();
    const nodes: Array<{ id: string; type: string; location: Location; space_info: Record<string, number> | null }> = [];
    for (const s of servers) {
      const space_info: Record<string, number> = s.space ? { total: s.space.total, used: s.space.used, available: s.space.total - s.space.used } : {};
      nodes.push({ id: s.address, type: 'chunk_server', location: s.location, space_info });
    }
    for (const [id, c] of this.clients) nodes.push({ id, type: 'client', location: c.location, space_info: null });
    const edges: Array<{ source: string; target: string; distance: number }> = [];
    const seen = new Set<string>();
    for (let i = 0; i < nodes.length; i++) {
      if (i > 0 && i % GRAPH_NODES_PER_TURN === 0) await new Promise((r) => setImmediate(r));
      const from = nodes[i]!;
      for (const { s, d } of nearest(from.id, from.location, servers, GRAPH_NEIGHBOURS)) {
        const key = from.id < s.address ? `${from.id}\n${s.address}` : `${s.address}\n${from.id}`;
        if (from.type === 'chunk_server' && seen.has(key)) continue;
        seen.add(key);
        edges.push({ source: from.id, target: s.address, distance: d });
      }
    }
    return { nodes, edges, active_clients: [...this.clients.keys()] };
  }
}

/** The `k` servers nearest to `at` other than `self`, nearest first, in one pass. */
function nearest(self: string, at: Location, servers: readonly ServerNode[], k: number): Array<{ s: ServerNode; d: number }> {
  const best: Array<{ s: ServerNode; d: number }> = [];
  for (const s of servers) {
    if (s.address === self) continue;
    const d = distance(at, s.location);
    if (best.length === k && d >= best[k - 1]!.d) continue;
    let i = Math.min(best.length, k - 1);
    best[i] = { s, d };
    while (i > 0 && best[i - 1]!.d > d) {
      [best[i - 1], best[i]] = [best[i]!, best[i - 1]!];
      i--;
    }
  }
  return best;
}
