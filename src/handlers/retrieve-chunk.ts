import { fileBodyOf } from '../storage/file-body.js';
import type { RetrieveChunkRequest, RetrieveReply } from '../wire/messages.js';
import type { HandlerContext } from './context.js';

/** retrieve_chunk: the reply streams the file; no chunk-sized buffer is ever built. */
export async function retrieveChunk(req: RetrieveChunkRequest, ctx: HandlerContext): Promise<RetrieveReply> {
  const file = await ctx.store.openForRead(req.chunk_id);
  ctx.log.debug({ chunk_id: req.chunk_id, bytes: file.size }, 'retrieving chunk');
  return { status: 'ok', data: fileBodyOf(file.handle, file.size, ctx.pool, () => file.handle.close()) };
}
