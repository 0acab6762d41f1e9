import type { OkReply, StoreChunkRequest } from '../wire/messages.js';
import { payloadSize } from '../wire/spill.js';
import type { HandlerContext } from './context.js';

/**
 * store_chunk. The replica path (`replica_servers` truthy) only stores, under the given
 * chunk_id (the reference wrongly re-keyed replicas by sha256). The primary path stores and
 * reports how many replicas were made; it makes none until a master is configured.
 */
export async function storeChunk(req: StoreChunkRequest, ctx: HandlerContext): Promise<OkReply> {
  await ctx.store.write(req.chunk_id, req.data);
  ctx.log.debug({ chunk_id: req.chunk_id, bytes: payloadSize(req.data), replica: req.isReplica }, 'stored chunk');
  if (req.isReplica) return { status: 'ok', chunk_id: req.chunk_id };
  return { status: 'ok', chunk_id: req.chunk_id, replicas: 0 };
}
