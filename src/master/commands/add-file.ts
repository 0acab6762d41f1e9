import { defineCommand, type OkReply, type RequestOf } from '../../commands/define.js';
import { chunkIds, newPath } from '../../commands/fields.js';
import { shape, uint } from '../../commands/shape.js';
import type { MasterContext } from './context.js';

// A 64 TiB file of 64 MiB chunks; a frame's million values bound the list first.
const MAX_FILE_CHUNKS = 1_000_000;

// chunk_ids is checked first, as it always was.
const request = shape({ chunk_ids: chunkIds({ max: MAX_FILE_CHUNKS }), file_path: newPath(), total_size: uint() });

async function addFile(req: RequestOf<'add_file', typeof request>, ctx: MasterContext): Promise<OkReply> {
  await ctx.ns.addFile(req.file_path, req.total_size, req.chunk_ids);
  return { status: 'ok' };
}

export default defineCommand({ name: 'add_file', access: 'write', request, handle: addFile });
