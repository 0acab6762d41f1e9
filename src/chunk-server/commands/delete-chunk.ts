import type { DeleteChunkRequest, OkReply } from '../../wire/messages.js';
import type { HandlerContext } from './context.js';

/** delete_chunk: ok whether or not the chunk existed, as the reference replies. */
export async function deleteChunk(req: DeleteChunkRequest, ctx: HandlerContext): Promise<OkReply> {
  const existed = await ctx.store.delete(req.chunk_id);
  ctx.log.debug({ chunk_id: req.chunk_id, existed }, 'deleted chunk');
  return { status: 'ok' };
}
