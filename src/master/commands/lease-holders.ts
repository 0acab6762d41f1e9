// Which servers may hold a chunk's lease, and the lease fields of a reply: shared by
// get_chunk_locations, get_lease and allocate_chunk (PROTOCOL.md, "Leases and record_append").
import { classify } from '../replica-policy.js';
import type { LeaseAnswer } from '../leases.js';
import type { MasterContext } from './context.js';

/**
 * The chunk's current copies on live servers, in the order readers get them. A chunk no
 * server reported yet (just allocated) is held by the servers recorded for it.
 */
export function leaseHolders(ctx: MasterContext, chunkId: string, recorded: readonly string[]): string[] {
  const { map, nodes, repairer } = ctx;
  if (!map.replicas(chunkId)) return recorded.filter((a) => nodes.isLive(a));
  const servers = repairer.servers();
  const current = new Set(classify(repairer.chunkView(chunkId), servers).current);
  return repairer.holders(chunkId, recorded, servers).filter((a) => current.has(a) && servers.get(a)?.state === 'live');
}

/**
 * The copies a primary forwards records to: the current ones and those merely behind (their
 * last report predates the newest records; not proven stale). Leaving one of those out would
 * make it miss records while it is still in step, and stale for nothing.
 */
export function forwardHolders(ctx: MasterContext, chunkId: string, recorded: readonly string[]): string[] {
  const { map, nodes, repairer } = ctx;
  if (!map.replicas(chunkId)) return recorded.filter((a) => nodes.isLive(a));
  const servers = repairer.servers();
  const c = classify(repairer.chunkView(chunkId), servers);
  return [...c.current, ...c.behind].filter((a) => servers.get(a)?.state !== 'dead');
}

/** `primary` and `lease_end` (wall-clock ms) of a reply; null both when no lease is in force. */
export function leaseFields(answer: LeaseAnswer): { primary: string | null; lease_end: number | null } {
  if (answer.kind === 'none') return { primary: null, lease_end: null };
  return { primary: answer.lease.primary, lease_end: Math.floor(answer.lease.endEpochMs) };
}
