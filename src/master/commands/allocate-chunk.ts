import { randomBytes } from 'node:crypto';
import { defineCommand, type OkReply, type RequestOf } from '../../commands/define.js';
import { chunkId, clientId, filePath } from '../../commands/fields.js';
import { optional, shape } from '../../commands/shape.js';
import { FileNotFoundError, InsufficientSpaceError } from '../../errors.js';
import { replicaOrder } from '../placement-policy.js';
import type { MasterContext } from './context.js';
import { leaseFields, leaseHolders } from './lease-holders.js';

const request = shape({
  file_path: filePath(),
  /** The file's last chunk as the sender knows it (the one that answered chunk_full); nil: the file has none. */
  after_chunk_id: optional(chunkId()),
  client_id: optional(clientId()),
});

/** Unique without coordination: a record-append chunk's id is not the sha256 of bytes still to come. */
function newChunkId(): string {
  return `ra-${Date.now().toString(36)}-${randomBytes(10).toString('hex')}`;
}

/**
 * allocate_chunk (ours): the next chunk of a file for record appends, handed out once however
 * many appenders ask after the same chunk filled (GFS 3.3). When `after_chunk_id` is still the
 * file's last chunk, a new empty chunk is placed and recorded as the last; otherwise the
 * current last chunk is returned (`created: false`). The check and the record are made in one
 * event turn, so two requests cannot both create. The reply names the holders and the lease.
 */
async function allocateChunk(req: RequestOf<'allocate_chunk', typeof request>, ctx: MasterContext): Promise<OkReply> {
  const meta = ctx.ns.get(req.file_path);
  if (!meta) throw new FileNotFoundError();
  let id = meta.last_chunk_id;
  let created = false;
  if (id === req.after_chunk_id) {
    const placed = replicaOrder(ctx.nodes, req.client_id, new Set(ctx.repairer.decommissions()), ctx.placement).slice(0, ctx.replicationFactor);
    if (placed.length === 0) throw new InsufficientSpaceError(0);
    id = newChunkId();
    created = true;
    await ctx.ns.recordChunk(req.file_path, id, placed, 0, meta.chunk_ids.length, 0);
    ctx.log.info({ file_path: req.file_path, chunk_id: id, locations: placed }, 'chunk allocated for record appends');
  }
  if (id === null) throw new FileNotFoundError();
  const now = ctx.ns.get(req.file_path);
  const recorded = now?.chunk_locations[id] ?? [];
  const holders = leaseHolders(ctx, id, recorded);
  const lease = await ctx.leases.acquire(id, holders, null);
  return { status: 'ok', chunk_id: id, created, offset: now?.chunk_offsets[id] ?? 0, locations: ctx.repairer.holders(id, recorded), ...leaseFields(lease) };
}

export default defineCommand({ name: 'allocate_chunk', access: 'write', request, handle: allocateChunk });
