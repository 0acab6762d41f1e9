import type { AppendChunkRequest, OkReply } from '../wire/messages.js';
import type { HandlerContext } from './context.js';

/**
 * append_chunk: appends at the chunk's true end (creating it if missing), as the reference
 * does, then as primary forwards the append to the chunk's other holders.
 */
export async function appendChunk(req: AppendChunkRequest, ctx: HandlerContext): Promise<OkReply> {
  const newOffset = await ctx.store.append(req.chunk_id, req.data);
  if (newOffset !== req.offset + req.data.length) {
    ctx.log.warn({ chunk_id: req.chunk_id, offset: req.offset, actual: newOffset - req.data.length }, 'append offset mismatch');
  }
  if (!req.isReplica) {
    const replicas = await ctx.cluster.appendReplicas(req);
    ctx.log.debug({ chunk_id: req.chunk_id, new_offset: newOffset, replicas }, 'appended as primary');
  }
  return { status: 'ok', new_offset: newOffset };
}
