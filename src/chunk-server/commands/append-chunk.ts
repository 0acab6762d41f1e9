import { defineCommand, type OkReply, type RequestOf } from '../../commands/define.js';
import { chunkId, filePath, isReplicaFlag, MAX_BIN_BYTES, replicaFlag } from '../../commands/fields.js';
import { bytes, optional, shape, uint } from '../../commands/shape.js';
import type { HandlerContext } from './context.js';

const request = shape({
  chunk_id: chunkId(),
  data: bytes({ maxBytes: MAX_BIN_BYTES }),
  /**
   * Where the sender believes the chunk ends. From a client, advisory: the data lands at
   * the true end. From a primary (replica append), binding: the offset the primary used.
   */
  offset: optional(uint()),
  file_path: optional(filePath()),
  /** True when a primary forwarded this append to us as a replica. */
  isReplica: replicaFlag(),
  /** The chunk version to take (a primary forwarding its own); absent: the next one. */
  version: optional(uint()),
});
export type AppendChunkRequest = RequestOf<'append_chunk', typeof request>;

/**
 * append_chunk: appends at the chunk's true end, as the reference does, whatever `offset`
 * the client believed; `new_offset` is the chunk's size afterwards. A replica append must
 * land where its primary's did: a copy that ends elsewhere refuses it (bad_offset), the
 * primary leaves it out of the holders it reports, and the master judges it stale, instead
 * of it taking the primary's version over different bytes. As primary it then
 * forwards the append, with the offset it really used, to the chunk's other holders, and
 * tells the master the chunk's new end and which holders have it (update_chunk_offset).
 */
async function appendChunk(req: AppendChunkRequest, ctx: HandlerContext): Promise<OkReply> {
  const at = req.isReplica && req.offset !== null ? req.offset : undefined;
  const { offset, size, version } = await ctx.store.append(req.chunk_id, req.data, req.version ?? undefined, at);
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

export default defineCommand({
  name: 'append_chunk',
  // A replica append comes from its primary.
  access: (f) => (isReplicaFlag(f.replica_servers) ? 'member' : 'write'),
  request,
  handle: appendChunk,
});
