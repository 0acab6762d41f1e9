import { defineCommand, type OkReply, type RequestOf } from '../../commands/define.js';
import { chunkId, filePath } from '../../commands/fields.js';
import { shape } from '../../commands/shape.js';
import { readCheck } from '../read-checks.js';
import type { MasterContext } from './context.js';
import { leaseFields, leaseHolders } from './lease-holders.js';

const request = shape({ file_path: filePath(), chunk_id: chunkId() });

/**
 * get_chunk_locations: current holders of a chunk of the file, live ones first; never a stale
 * copy. Ours adds the chunk's `version` and `digests`, the (length, digest) of the current copies, for the reader's
 * check of a chunk whose id is not the sha256 of its bytes (PROTOCOL.md, "Reads are checked"),
 * and the lease of the file's last chunk: `primary` and `lease_end`, a lease being granted to
 * one current holder when none is in force (PROTOCOL.md, "Leases and record_append"). The
 * reference client ignores both.
 */
async function getChunkLocations(req: RequestOf<'get_chunk_locations', typeof request>, ctx: MasterContext): Promise<OkReply> {
  const meta = ctx.ns.get(req.file_path);
  if (!meta || !meta.chunk_ids.includes(req.chunk_id)) return { status: 'ok', locations: [], version: 0, digests: [], primary: null, lease_end: null };
  const servers = ctx.repairer.servers();
  const recorded = meta.chunk_locations[req.chunk_id] ?? [];
  const locations = ctx.repairer.holders(req.chunk_id, recorded, servers);
  // Only the last chunk takes appends; the others are full and need no primary.
  const lease = meta.last_chunk_id === req.chunk_id ? await ctx.leases.acquire(req.chunk_id, leaseHolders(ctx, req.chunk_id, recorded), null) : { kind: 'none' as const };
  return { status: 'ok', locations, ...readCheck(ctx.repairer.chunkView(req.chunk_id), servers), ...leaseFields(lease) };
}

export default defineCommand({ name: 'get_chunk_locations', access: 'read', request, handle: getChunkLocations });
