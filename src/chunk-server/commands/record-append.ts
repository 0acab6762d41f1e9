import { defineCommand, type OkReply, type RequestOf } from '../../commands/define.js';
import { chunkId, filePath, isReplicaFlag, MAX_BIN_BYTES, replicaFlag } from '../../commands/fields.js';
import { bytes, flag, optional, shape, uint } from '../../commands/shape.js';
import { BadRequestError, ChunkFullError, NotPrimaryError, RecordTooLargeError, ReplicaFailedError } from '../../errors.js';
import type { HandlerContext } from './context.js';

// A forwarded record waits this long for the records before it to arrive (they travel on
// other connections); past it the copy refuses it and the primary reports the copy stale.
const TURN_WAIT_MS = 5_000;

const request = shape({
  chunk_id: chunkId(),
  file_path: filePath(),
  data: bytes({ maxBytes: MAX_BIN_BYTES }),
  /** From a client: the chunk size its writers use; a record must fit in a quarter of it. */
  chunk_size: optional(uint({ max: MAX_BIN_BYTES })),
  /**
   * A byte stream rather than records: what does not fit is cut, the part that fits written
   * (`written` in the reply), instead of padding the chunk. Ours, for `gfs append`.
   */
  partial: optional(flag(), false),
  /** True when the primary forwards a record to the other holders. */
  isReplica: replicaFlag(),
  /** Forwarded: where the primary put the record, its new version and its lease's epoch. */
  offset: optional(uint()),
  version: optional(uint()),
  epoch: optional(uint()),
});
type RecordAppendRequest = RequestOf<'record_append', typeof request>;

/**
 * record_append (PROTOCOL.md, "Leases and record_append"; GFS 3.3): the primary picks the
 * offset (the committed end, under the chunk lock), writes the record through the log, sends
 * it with the offset to the other current holders in parallel, and answers the offset once
 * every one of them has it durably. A record that does not fit pads the chunk to its end on
 * every holder instead, answered chunk_full.
 */
async function recordAppend(req: RecordAppendRequest, ctx: HandlerContext): Promise<OkReply> {
  if (req.isReplica) return applyForwarded(req, ctx);
  const records = ctx.cluster.records;
  if (req.data.length === 0) throw new BadRequestError('data');
  const capacity = req.chunk_size;
  if (capacity === null || capacity < 4) throw new BadRequestError('chunk_size');
  if (req.data.length > Math.floor(capacity / 4)) throw new RecordTooLargeError(Math.floor(capacity / 4));
  const lease = await records.lease(req.file_path, req.chunk_id);
  const r = await ctx.store.appendRecord(req.chunk_id, req.data, capacity, req.partial);
  if (r.data.length > 0) {
    const failed = await records.forward(lease.holders, {
      command: 'record_append', chunk_id: req.chunk_id, file_path: req.file_path, data: r.data,
      offset: r.offset, version: r.version, epoch: lease.epoch, replica_servers: true,
    });
    const have = [ctx.cluster.address, ...lease.holders.filter((a) => !failed.includes(a))];
    if (failed.length > 0) {
      // The master learns at once which copies have the record: the others are stale.
      records.refresh(req.chunk_id);
      await records.reportEnd(req.file_path, req.chunk_id, r.size, r.version, have);
      throw new ReplicaFailedError(failed);
    }
    // The lease ran out while the record travelled: another primary may be at work.
    if (!records.holds(req.chunk_id, lease.epoch)) throw new NotPrimaryError(null);
    await records.reportEnd(req.file_path, req.chunk_id, r.size, r.version, have);
    ctx.log.debug({ chunk_id: req.chunk_id, offset: r.offset, bytes: r.data.length, padded: r.padded }, 'record appended as primary');
  }
  // Full already (padded by an earlier record): its end may still be on its way to the master,
  // and a writer told chunk_full reads the file's layout there next. Only this server is
  // named: the lease's holders now may include a copy that refused the padding (a copy made
  // while records came, behind), and naming it would make the master count it current.
  else await records.reportEnd(req.file_path, req.chunk_id, r.size, r.version, [ctx.cluster.address]);
  if (r.padded) throw new ChunkFullError(r.size);
  return { status: 'ok', offset: r.offset, version: r.version, written: r.data.length, copies: 1 + lease.holders.length };
}

/** A holder applies a forwarded record at the primary's offset, in offset order, unless a newer primary was seen. */
async function applyForwarded(req: RecordAppendRequest, ctx: HandlerContext): Promise<OkReply> {
  const records = ctx.cluster.records;
  if (req.offset === null) throw new BadRequestError('offset');
  if (req.epoch === null) throw new BadRequestError('epoch');
  records.acceptEpoch(req.chunk_id, req.epoch);
  try {
    await records.waitTurn(req.chunk_id, req.offset, () => ctx.store.sizeOf(req.chunk_id) ?? 0, TURN_WAIT_MS);
    records.acceptEpoch(req.chunk_id, req.epoch);
    const { version } = await ctx.store.append(req.chunk_id, req.data, req.version ?? undefined, req.offset);
    return { status: 'ok', offset: req.offset, version };
  } finally {
    records.moved(req.chunk_id);
  }
}

export default defineCommand({
  name: 'record_append',
  // Forwarded records come from the primary.
  access: (f) => (isReplicaFlag(f.replica_servers) ? 'member' : 'write'),
  request,
  handle: recordAppend,
});
