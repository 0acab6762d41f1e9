// Where new copies go, for clients (get_chunk_servers, get_replica_locations) and for
// repair alike: one score of distance and fullness, so a chunk a client writes and a copy
// repair makes are placed by the same weights.
import { distance } from './location.js';
import type { Nodes, ServerNode } from './nodes.js';

export interface PlacementWeights {
  readonly distanceWeight: number;
  readonly spaceWeight: number;
}

/** What placement weighs of a server. Bytes; total 0 = not told yet (counted empty). */
export interface Placeable {
  readonly location: readonly [number, number];
  readonly total: number;
  readonly used: number;
}

// Coordinates are taken to lie in 0..100, so distances are scaled by the square's diagonal.
const MAX_DISTANCE = Math.sqrt(2 * 100 ** 2);
// get_chunk_servers for a known client returns at most this many, nearest first (as the reference).
const NEAREST_SERVERS = 3;

export function fullness(s: Placeable): number {
  return s.total > 0 ? Math.min(1, s.used / s.total) : 0;
}

/** Lower is better: `far` (0..1) is the distance term, weighted against fullness. */
function score(far: number, s: Placeable, w: PlacementWeights): number {
  return w.distanceWeight * far + w.spaceWeight * fullness(s);
}

/**
 * Repair's score: distance measured from the copies the chunk already has (nearer = worse),
 * so copies spread over locations instead of piling onto the servers nearest each other.
 */
export function spreadScore(s: Placeable, placed: readonly (readonly [number, number])[], w: PlacementWeights): number {
  let nearest = MAX_DISTANCE;
  for (const p of placed) nearest = Math.min(nearest, distance(p, s.location));
  return score(1 - nearest / MAX_DISTANCE, s, w);
}

function placeable(s: ServerNode): Placeable {
  return { location: s.location, total: s.space?.total ?? 0, used: s.space?.used ?? 0 };
}

function candidates(nodes: Nodes, excluding: ReadonlySet<string>): ServerNode[] {
  return nodes.live().filter((s) => !excluding.has(s.address));
}

/** get_chunk_servers: nearest live servers not in `excluding` for a known client (more free space first on a tie), else all of them. */
export function chunkServersFor(nodes: Nodes, clientId: string | null, excluding: ReadonlySet<string> = new Set()): string[] {
  const client = nodes.clientLocation(clientId);
  const live = candidates(nodes, excluding);
  if (!client) return live.map((s) => s.address);
  const free = (s: ServerNode): number => (s.space ? s.space.total - s.space.used : 0);
  return live
    .map((s) => ({ s, d: distance(client, s.location) }))
    .sort((a, b) => a.d - b.d || free(b.s) - free(a.s))
    .slice(0, NEAREST_SERVERS)
    .map(({ s }) => s.address);
}

/**
 * get_replica_locations before the cut to replication_factor - 1: live servers not in
 * `excluding`, best score first for a known client (nearer and emptier), else in
 * registration order.
 */
export function replicaOrder(nodes: Nodes, clientId: string | null, excluding: ReadonlySet<string>, w: PlacementWeights): string[] {
  const client = nodes.clientLocation(clientId);
  const live = candidates(nodes, excluding);
  if (!client) return live.map((s) => s.address);
  return live
    .map((s) => ({ s, score: score(distance(client, s.location) / MAX_DISTANCE, placeable(s), w) }))
    .sort((a, b) => a.score - b.score)
    .map(({ s }) => s.address);
}
