import { defineCommand, type OkReply, type RequestOf } from '../../commands/define.js';
import { chunkId, filePath } from '../../commands/fields.js';
import { shape } from '../../commands/shape.js';
import type { MasterContext } from './context.js';

const request = shape({ file_path: filePath(), chunk_id: chunkId() });

/** get_chunk_locations: current holders of a chunk of the file, live ones first; never a stale copy. */
async function getChunkLocations(req: RequestOf<'get_chunk_locations', typeof request>, ctx: MasterContext): Promise<OkReply> {
  const meta = ctx.ns.get(req.file_path);
  if (!meta || !meta.chunk_ids.includes(req.chunk_id)) return { status: 'ok', locations: [] };
  return { status: 'ok', locations: ctx.repairer.holders(req.chunk_id, meta.chunk_locations[req.chunk_id] ?? []) };
}

export default defineCommand({ name: 'get_chunk_locations', access: 'read', request, handle: getChunkLocations });
