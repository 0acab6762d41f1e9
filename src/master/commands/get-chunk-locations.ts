import { defineCommand, type OkReply, type RequestOf } from '../../commands/define.js';
import { chunkId, filePath } from '../../commands/fields.js';
import { shape } from '../../commands/shape.js';
import { readCheck } from '../read-checks.js';
import type { MasterContext } from './context.js';

const request = shape({ file_path: filePath(), chunk_id: chunkId() });

/**
 * get_chunk_locations: current holders of a chunk of the file, live ones first; never a stale
 * copy. Ours adds the chunk's `version` and `digests`, the (length, digest) of the current copies, for the reader's
 * check of a chunk whose id is not the sha256 of its bytes (PROTOCOL.md, "Reads are checked").
 */
async function getChunkLocations(req: RequestOf<'get_chunk_locations', typeof request>, ctx: MasterContext): Promise<OkReply> {
  const meta = ctx.ns.get(req.file_path);
  if (!meta || !meta.chunk_ids.includes(req.chunk_id)) return { status: 'ok', locations: [], version: 0, digests: [] };
  const servers = ctx.repairer.servers();
  const locations = ctx.repairer.holders(req.chunk_id, meta.chunk_locations[req.chunk_id] ?? [], servers);
  return { status: 'ok', locations, ...readCheck(ctx.repairer.chunkView(req.chunk_id), servers) };
}

export default defineCommand({ name: 'get_chunk_locations', access: 'read', request, handle: getChunkLocations });
