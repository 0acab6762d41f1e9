import type { OkReply } from '../../commands/define.js';
import { chunkServersFor, replicaOrder } from '../placement-policy.js';
import type { MasterContext } from './context.js';

// The handlers of get_chunk_servers, get_replica_locations and get_graph_data (their
// command modules beside this file), kept together: they place chunks by one rule.

/** get_chunk_servers: nearest live servers for a registered client, else every live server; never one being decommissioned. */
export async function getChunkServers(req: { client_id: string | null }, ctx: MasterContext): Promise<OkReply> {
  const out = retiring(ctx);
  // decommissioning: an extra the reference ignores; still live, still holders, but no place for new chunks.
  return { status: 'ok', servers: chunkServersFor(ctx.nodes, req.client_id, out), decommissioning: ctx.nodes.live().filter((s) => out.has(s.address)).map((s) => s.address) };
}

/** get_replica_locations: at most replication_factor - 1 live servers, best first, ranked now; never one being decommissioned. */
export async function getReplicaLocations(req: { excluding: ReadonlySet<string>; client_id: string | null }, ctx: MasterContext): Promise<OkReply> {
  const excluding = new Set([...req.excluding, ...retiring(ctx)]);
  const ranked = replicaOrder(ctx.nodes, req.client_id, excluding, ctx.placement);
  return { status: 'ok', locations: ranked.slice(0, Math.max(0, ctx.replicationFactor - 1)) };
}

/** get_graph_data: the reference's map view of servers, clients and their distances. */
export async function getGraphData(_req: unknown, ctx: MasterContext): Promise<OkReply> {
  return { status: 'ok', graph_data: await ctx.nodes.graph() };
}

/** Servers being emptied take no new chunks: each new one would be one more to copy away. */
function retiring(ctx: MasterContext): ReadonlySet<string> {
  return new Set(ctx.repairer.decommissions());
}
