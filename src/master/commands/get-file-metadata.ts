import { defineCommand, type OkReply, type RequestOf } from '../../commands/define.js';
import { filePath } from '../../commands/fields.js';
import { flag, optional, shape } from '../../commands/shape.js';
import { readCheck } from '../read-checks.js';
import type { FileMetadata } from '../namespace/namespace.js';
import type { MasterContext } from './context.js';

// A small file's get asks once (PROTOCOL.md, "Small files"); a larger file's reader asks
// get_chunk_locations per chunk as it reaches it, so the reply stays small.
const MAX_CHECKED_CHUNKS = 16;

const request = shape({
  file_path: filePath(),
  /** Ours: add `checks`, each chunk's read check as get_chunk_locations gives it, for files of up to 16 chunks. */
  read_checks: optional(flag(), false),
});

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
  const reply: OkReply = { status: 'ok', metadata: meta === null ? null : present(meta, ctx) };
  if (req.read_checks && meta !== null && meta.chunk_ids.length <= MAX_CHECKED_CHUNKS) {
    const servers = ctx.repairer.servers();
    // Outside `metadata`: the reference builds its FileMetadata from that map's keys.
    reply.checks = Object.fromEntries(meta.chunk_ids.map((id) => [id, readCheck(ctx.repairer.chunkView(id), servers)]));
  }
  return reply;
}

export default defineCommand({ name: 'get_file_metadata', access: 'read', request, handle: getFileMetadata });
