import { defineCommand, type OkReply, type RequestOf } from '../../commands/define.js';
import { addresses, chunkId, filePath } from '../../commands/fields.js';
import { optional, shape, uint } from '../../commands/shape.js';
import type { MasterContext } from './context.js';

const request = shape({
  file_path: filePath(),
  chunk_id: chunkId(),
  offset: uint(),
  /** Ours: the chunk's new version (0 when not sent) and the holders that applied the append (null when not sent). */
  version: optional(uint(), 0),
  chunk_locations: optional(addresses()),
});

/**
 * update_chunk_offset: the chunk now ends at `offset`; an offset below the recorded end is
 * late news of an earlier append (concurrent producers) and changes nothing. Our primaries add the new `version`
 * and the holders that applied the append: any other copy is stale at once. Without them
 * (a reference client), copies on servers that send no reports are taken to have it, and
 * the others are judged by their next report.
 */
async function updateChunkOffset(req: RequestOf<'update_chunk_offset', typeof request>, ctx: MasterContext): Promise<OkReply> {
  const { ns, map } = ctx;
  if (!(await ns.setOffset(req.file_path, req.chunk_id, req.offset, req.version))) return { status: 'ok' };
  const now = Date.now();
  if (req.chunk_locations !== null) {
    for (const a of req.chunk_locations) map.set(req.chunk_id, a, { length: req.offset, version: req.version, digest: null }, now, true);
    map.raise(req.chunk_id, now, true, req.offset);
  } else {
    for (const [a, r] of map.replicas(req.chunk_id) ?? []) {
      if (!map.reports(a) && r.length < req.offset) map.set(req.chunk_id, a, { length: req.offset, version: req.version, digest: null }, now, true);
    }
    map.raise(req.chunk_id, now + ctx.reportMarginMs, false, req.offset);
  }
  return { status: 'ok' };
}

export default defineCommand({ name: 'update_chunk_offset', access: 'write', request, handle: updateChunkOffset });
