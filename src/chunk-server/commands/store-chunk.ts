import { defineCommand, type OkReply, type RequestOf } from '../../commands/define.js';
import { addresses, chunkId, clientId, filePath, isReplicaFlag, MAX_BIN_BYTES, replicaFlag } from '../../commands/fields.js';
import { bytes, optional, shape, uint } from '../../commands/shape.js';
import { BadRequestError, InsufficientSpaceError, NotRecordedError, ReplicaFailedError } from '../../errors.js';
import { chargeDelta } from '../../storage/index.js';
import { payloadSize } from '../../wire/payload.js';
import type { HandlerContext } from './context.js';

const request = shape({
  chunk_id: chunkId(),
  /** In memory for small frames; a staged temp file for large ones (stream_threshold_mb). */
  data: bytes({ maxBytes: MAX_BIN_BYTES, streamed: true }),
  file_path: optional(filePath()),
  chunk_index: optional(uint()),
  client_id: optional(clientId()),
  /** True when the sender is a primary (or the master) handing us a replica to keep. */
  isReplica: replicaFlag(),
  /** The chunk version to take (a primary forwarding its own); absent: the next one. */
  version: optional(uint()),
  /**
   * Ours (PROTOCOL.md, "Small files"): the replicas create_file placed. The primary sends the
   * chunk to exactly these (no get_replica_locations, no check_space) and answers ok only when
   * every one of them and the master have it; otherwise an error, and the master is not told.
   */
  forward_to: optional(addresses()),
});
export type StoreChunkRequest = RequestOf<'store_chunk', typeof request>;

/**
 * store_chunk. The replica path (`replica_servers` truthy) only stores, under the given
 * chunk_id (the reference wrongly re-keyed replicas by sha256). Without it this server is
 * the primary: it places copies on peers the master picks, stores its own, and tells the
 * master where the chunk really lives.
 */
async function storeChunk(req: StoreChunkRequest, ctx: HandlerContext): Promise<OkReply> {
  if (req.isReplica) {
    const version = await ctx.store.write(req.chunk_id, req.data, req.version ?? undefined);
    ctx.log.debug({ chunk_id: req.chunk_id, bytes: payloadSize(req.data), version }, 'stored replica');
    return { status: 'ok', chunk_id: req.chunk_id, version };
  }
  return storeAsPrimary(req, ctx);
}

async function storeAsPrimary(req: StoreChunkRequest, ctx: HandlerContext): Promise<OkReply> {
  const { store, cluster, log } = ctx;
  const size = payloadSize(req.data);
  // Refuse before asking anyone: the client falls back to another server on this error.
  // An overwrite needs room only for its growth, as the store charges it. Room that stores in
  // flight hold may come back: only a value that could never fit is refused here, the store
  // waits in line for the rest (issue 22 item 5). A spilled payload already passed this.
  if (Buffer.isBuffer(req.data) && !store.space.couldFit(chargeDelta(store.sizeOf(req.chunk_id), size))) {
    throw new InsufficientSpaceError(store.space.available);
  }
  if (req.forward_to !== null && req.file_path === null) throw new BadRequestError('file_path');
  if (req.file_path === null) {
    // The master files chunks under a path; without one there is nothing to tell it.
    const version = await store.write(req.chunk_id, req.data, req.version ?? undefined);
    log.warn({ chunk_id: req.chunk_id }, 'primary store without file_path: stored locally only, master not told');
    return { status: 'ok', chunk_id: req.chunk_id, replicas: 0, version };
  }

  const placed = req.forward_to?.filter((a) => a !== cluster.address) ?? null;
  const targets = placed ?? (await cluster.replicaTargets(size, req.client_id));
  // Every copy gets the primary's new version, so that the master sees them as one current
  // set (its stale rule compares versions) whatever each replica held before. The store
  // picks it under the chunk's lock: an append committing meanwhile keeps its own version.
  // The local write and the copies overlap; a failed local write is still the client's answer.
  const { local, copies } = await store.writeAsPrimary(req.chunk_id, req.data, req.version ?? undefined, (version) =>
    cluster.storeReplicas(targets ?? [], req, version, placed !== null));
  const holders = copies.status === 'fulfilled' ? copies.value : [];
  if (local.status === 'rejected') {
    if (holders.length > 0) log.warn({ chunk_id: req.chunk_id, peers: holders }, 'local store failed after peers took copies; master not told');
    throw local.reason;
  }
  const missed = placed?.filter((a) => !holders.includes(a)) ?? [];
  // All or nothing: the file stays empty on the master and the client removes it.
  if (missed.length > 0) throw new ReplicaFailedError(missed);

  if (targets === null) {
    log.warn({ chunk_id: req.chunk_id, file_path: req.file_path }, 'master unreachable: chunk stored locally, metadata not updated');
    return { status: 'ok', chunk_id: req.chunk_id, replicas: 0, version: local.value };
  }
  const locations = [cluster.address, ...holders];
  const told = await cluster.reportChunk({
    file_path: req.file_path,
    chunk_id: req.chunk_id,
    chunk_locations: locations,
    chunk_size: size,
    pending_replication: locations.length < cluster.replicationFactor,
    chunk_index: req.chunk_index ?? undefined,
  });
  if (!told && placed !== null) throw new NotRecordedError();
  log.debug({ chunk_id: req.chunk_id, bytes: size, locations }, 'stored chunk as primary');
  return { status: 'ok', chunk_id: req.chunk_id, replicas: holders.length, version: local.value };
}

export default defineCommand({
  name: 'store_chunk',
  // A replica store comes from a primary or the master.
  access: (f) => (isReplicaFlag(f.replica_servers) ? 'member' : 'write'),
  request,
  handle: storeChunk,
});
