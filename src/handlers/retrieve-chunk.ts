import { fileBodyOf } from '../storage/file-body.js';
import type { RetrieveChunkRequest, RetrieveReply } from '../wire/messages.js';
import type { HandlerContext } from './context.js';

// Chunks up to this size are read whole into the reply (three file system calls, no stat);
// larger ones are streamed from the file.
const READ_WHOLE_MAX_BYTES = 64 * 1024;

/** retrieve_chunk: the reply streams the file; no chunk-sized buffer is ever built. */
export async function retrieveChunk(req: RetrieveChunkRequest, ctx: HandlerContext): Promise<RetrieveReply> {
  const small = await ctx.store.readSmall(req.chunk_id, READ_WHOLE_MAX_BYTES);
  if (small !== null) return { status: 'ok', data: small };
  const file = await ctx.store.openForRead(req.chunk_id);
  ctx.log.debug({ chunk_id: req.chunk_id, bytes: file.size }, 'retrieving chunk');
  return { status: 'ok', data: fileBodyOf(file.handle, file.size, ctx.pool, () => file.handle.close()) };
}
