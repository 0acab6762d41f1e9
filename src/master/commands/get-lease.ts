import { defineCommand, type OkReply, type RequestOf } from '../../commands/define.js';
import { address, chunkId, filePath } from '../../commands/fields.js';
import { shape } from '../../commands/shape.js';
import { NoLeaseError, NotPrimaryError } from '../../errors.js';
import type { MasterContext } from './context.js';
import { forwardHolders, leaseHolders } from './lease-holders.js';

const request = shape({ address: address(), file_path: filePath(), chunk_id: chunkId() });

/**
 * get_lease (ours): a chunk server asks to act as the chunk's primary, before its first
 * record_append and again while appends come, to renew. Granted (or renewed) when it is a
 * current live holder and no other server holds a lease in force; the reply names the other
 * current holders the primary forwards records to and how long the lease lasts as the master
 * measures it (PROTOCOL.md, "Leases and record_append").
 */
async function getLease(req: RequestOf<'get_lease', typeof request>, ctx: MasterContext): Promise<OkReply> {
  const meta = ctx.ns.get(req.file_path);
  if (!meta || !meta.chunk_ids.includes(req.chunk_id)) throw new NoLeaseError('unknown chunk');
  const recorded = meta.chunk_locations[req.chunk_id] ?? [];
  const holders = leaseHolders(ctx, req.chunk_id, recorded);
  const answer = await ctx.leases.acquire(req.chunk_id, holders, req.address);
  if (answer.kind === 'none') throw new NoLeaseError(ctx.leases.restartWaitMs > 0 ? 'master restarted or took over, waiting out old leases' : 'not a current holder');
  if (answer.kind === 'held' || answer.lease.primary !== req.address) throw new NotPrimaryError(answer.lease.primary, Math.floor(answer.lease.endEpochMs));
  const l = answer.lease;
  return { status: 'ok', primary: l.primary, lease_ms: Math.floor(l.remainingMs), lease_end: Math.floor(l.endEpochMs), epoch: l.epoch, holders: forwardHolders(ctx, req.chunk_id, recorded).filter((a) => a !== req.address) };
}

export default defineCommand({ name: 'get_lease', access: 'member', sender: 'address', request, handle: getLease });
