import { defineCommand, type OkReply, type RequestOf } from '../../commands/define.js';
import { filePath } from '../../commands/fields.js';
import { shape } from '../../commands/shape.js';
import type { FileMetadata } from '../namespace/namespace.js';
import type { MasterContext } from './context.js';

const request = shape({ file_path: filePath() });

/** The file as clients read it: holders from the chunk reports (stale copies never listed), pending copies. */
function present(meta: FileMetadata, ctx: MasterContext): Record<string, unknown> {
  const servers = ctx.repairer.servers();
  const chunk_locations: Record<string, string[]> = {};
  const pending_replication: Record<string, number> = {};
  for (const id of new Set(meta.chunk_ids)) {
    const holders = ctx.repairer.holders(id, meta.chunk_locations[id] ?? [], servers);
    chunk_locations[id] = holders;
    const missing = ctx.repairer.missing(id, holders);
    if (missing > 0) pending_replication[id] = missing;
  }
  return { ...meta, chunk_locations, pending_replication };
}

/** get_file_metadata: the file's FileMetadata, or nil when there is no such file (as the reference). */
async function getFileMetadata(req: RequestOf<'get_file_metadata', typeof request>, ctx: MasterContext): Promise<OkReply> {
  const meta = ctx.ns.get(req.file_path);
  return { status: 'ok', metadata: meta === null ? null : present(meta, ctx) };
}

export default defineCommand({ name: 'get_file_metadata', access: 'read', request, handle: getFileMetadata });
