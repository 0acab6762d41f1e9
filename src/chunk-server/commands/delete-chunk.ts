import { defineCommand, type OkReply, type RequestOf } from '../../commands/define.js';
import { chunkId } from '../../commands/fields.js';
import { shape } from '../../commands/shape.js';
import type { HandlerContext } from './context.js';

const request = shape({ chunk_id: chunkId() });

/** delete_chunk: ok whether or not the chunk existed, as the reference replies. */
async function deleteChunk(req: RequestOf<'delete_chunk', typeof request>, ctx: HandlerContext): Promise<OkReply> {
  const existed = await ctx.store.delete(req.chunk_id);
  ctx.log.debug({ chunk_id: req.chunk_id, existed }, 'deleted chunk');
  return { status: 'ok' };
}

export default defineCommand({ name: 'delete_chunk', access: 'write', request, handle: deleteChunk });
