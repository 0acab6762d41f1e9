import type { AppendChunkRequest, OkReply } from '../wire/messages.js';
import type { HandlerContext } from './context.js';

/**
 * append_chunk: appends at the chunk's true end, as the reference does, whatever `offset`
 * the client believed; `new_offset` is the chunk's size afterwards. `replica_servers` is
 * accepted; forwarding to replicas is not done here.
 */
export async function appendChunk(req: AppendChunkRequest, ctx: HandlerContext): Promise<OkReply> {
  const { offset, size } = await ctx.store.append(req.chunk_id, req.data);
  if (req.offset !== null && req.offset !== offset) {
    ctx.log.warn({ chunk_id: req.chunk_id, client_offset: req.offset, offset }, 'append offset mismatch: appended at the true end');
  }
  ctx.log.debug({ chunk_id: req.chunk_id, bytes: req.data.length, offset, replica: req.isReplica }, 'appended to chunk');
  return { status: 'ok', new_offset: size };
}
