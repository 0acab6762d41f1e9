import { defineCommand, type OkReply, type RequestOf } from '../../commands/define.js';
import { addresses, chunkId, filePath } from '../../commands/fields.js';
import { flag, optional, shape, uint } from '../../commands/shape.js';
import type { MasterContext } from './context.js';

const request = shape({
  file_path: filePath(),
  chunk_id: chunkId(),
  chunk_locations: addresses(),
  chunk_size: optional(uint(), 0),
  /** Not sent by the reference; ours send the client's chunk_index when it gave one. */
  chunk_index: optional(uint()),
  /** The primary's view; the master decides from its own replication_factor. */
  pending_replication: flag(),
  /** The chunk's version after the store (our chunk servers with versioned storage); 0 when not sent. */
  version: optional(uint(), 0),
});

/** update_file_metadata: a primary reports where a chunk it stored really lives. */
async function updateFileMetadata(req: RequestOf<'update_file_metadata', typeof request>, ctx: MasterContext): Promise<OkReply> {
  const { ns, map } = ctx;
  await ns.recordChunk(req.file_path, req.chunk_id, req.chunk_locations, req.chunk_size, req.chunk_index, req.version);
  const now = Date.now();
  const recorded = ns.get(req.file_path)?.chunk_locations[req.chunk_id] ?? [];
  for (const a of req.chunk_locations) map.set(req.chunk_id, a, { length: req.chunk_size, version: req.version, digest: null }, now, true);
  // A server that sends no reports is known only by this record: one the store left out no longer counts.
  for (const a of [...(map.replicas(req.chunk_id)?.keys() ?? [])]) {
    if (!recorded.includes(a) && !map.reports(a)) map.drop(req.chunk_id, a);
  }
  ctx.log.debug({ file_path: req.file_path, chunk_id: req.chunk_id, locations: req.chunk_locations }, 'chunk recorded');
  return { status: 'ok' };
}

export default defineCommand({ name: 'update_file_metadata', access: 'write', request, handle: updateFileMetadata });
