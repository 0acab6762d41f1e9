import type { AppendChunkRequest, OkReply } from '../../wire/messages.js';
import type { HandlerContext } from './context.js';

/**
 * append_chunk: appends at the chunk's true end, as the reference does, whatever `offset`
 * the client believed; `new_offset` is the chunk's size afterwards. As primary it then
 * forwards the append, with the offset it really used, to the chunk's other holders, and
 * tells the master the chunk's new end and which holders have it (update_chunk_offset).
 */
export async function appendChunk(req: AppendChunkRequest, ctx: HandlerContext): Promise<OkReply> {
  const { offset, size, version } = await ctx.store.append(req.chunk_id, req.data, req.version ?? undefined);
  if (req.offset !== null && req.offset !== offset) {
    ctx.log.warn({ chunk_id: req.chunk_id, client_offset: req.offset, offset }, 'append offset mismatch: appended at the true end');
  }
  if (!req.isReplica) {
    const replicas = await ctx.cluster.appendReplicas({ ...req, offset, version });
    if (req.file_path !== null) await ctx.cluster.reportOffset(req.file_path, req.chunk_id, size, [ctx.cluster.address, ...replicas], version);
    ctx.log.debug({ chunk_id: req.chunk_id, new_offset: size, replicas }, 'appended as primary');
  }
  return { status: 'ok', new_offset: size, version };
}
