import { defineCommand, type OkReply, type RequestOf } from '../../commands/define.js';
import { address, chunkId, filePath } from '../../commands/fields.js';
import { shape } from '../../commands/shape.js';
import { dropsReported } from '../read-checks.js';
import type { MasterContext } from './context.js';

const request = shape({ file_path: filePath(), chunk_id: chunkId(), address: address() });

/**
 * report_corrupt_chunk (ours): a reader got bytes from `address` that failed the chunk's
 * check. The copy is dropped from the chunk map as a server's own corrupt report drops it,
 * so the next repair pass copies the chunk from a healthy holder; `dropped` false when the
 * master keeps it (no such copy, or no other current copy to repair from).
 */
async function reportCorruptChunk(req: RequestOf<'report_corrupt_chunk', typeof request>, ctx: MasterContext): Promise<OkReply> {
  const meta = ctx.ns.get(req.file_path);
  if (!meta || !meta.chunk_ids.includes(req.chunk_id)) return { status: 'ok', dropped: false };
  const dropped = dropsReported(ctx.repairer.chunkView(req.chunk_id), ctx.repairer.servers(), req.address);
  if (dropped) {
    ctx.map.drop(req.chunk_id, req.address);
    ctx.repairer.observed(req.address, req.chunk_id, false);
  }
  ctx.log.warn({ address: req.address, chunk_id: req.chunk_id, file_path: req.file_path, dropped }, 'a reader reported a copy that failed its check');
  return { status: 'ok', dropped };
}

export default defineCommand({ name: 'report_corrupt_chunk', access: 'write', request, handle: reportCorruptChunk });
