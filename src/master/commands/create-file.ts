import { defineCommand, type OkReply, type RequestOf } from '../../commands/define.js';
import { chunkId, clientId, newPath } from '../../commands/fields.js';
import { flag, optional, shape } from '../../commands/shape.js';
import { FileExistsError, InsufficientSpaceError } from '../../errors.js';
import { replicaOrder } from '../placement-policy.js';
import type { MasterContext } from './context.js';

const request = shape({
  file_path: newPath(),
  /** The sha256 of the bytes the client is about to store: the reference's id for a new chunk. */
  chunk_id: chunkId(),
  client_id: optional(clientId()),
  /** Replace a file already at the path (put --force); without it, file_exists. */
  overwrite: optional(flag(), false),
});

/**
 * create_file (ours; PROTOCOL.md, "Small files"): the first of a small put's two round trips.
 * The file and its one chunk are recorded in one namespace change (concurrent creators share
 * the store's group commit, in lmdb or through the etcd journal alike), the chunk at length 0:
 * until the primary's update_file_metadata after the store, a reader sees an empty file, never
 * part of the bytes. The reply places the chunk, primary first; the client sends it to the
 * primary with `forward_to` the others. A chunk id the namespace already knows (the same bytes
 * in another file) is not created again: `created: false` sends the client the classic way.
 */
async function createFile(req: RequestOf<'create_file', typeof request>, ctx: MasterContext): Promise<OkReply> {
  const { ns } = ctx;
  if (ns.chunk(req.chunk_id) !== undefined || ns.isReferenced(req.chunk_id)) return { status: 'ok', created: false };
  if (ns.get(req.file_path) !== null) {
    if (!req.overwrite) throw new FileExistsError();
    const old = await ns.deleteFile(req.file_path);
    if (old !== null) ctx.repairer.fileDeleted(old);
  }
  const placed = replicaOrder(ctx.nodes, req.client_id, new Set(ctx.repairer.decommissions()), ctx.placement).slice(0, ctx.replicationFactor);
  if (placed.length === 0) throw new InsufficientSpaceError(0);
  // Not awaited: the record is visible at once and its commit overlaps the store. It need not be
  // durable before the reply, since nothing is acknowledged to the client until the primary's
  // update_file_metadata, which is durable and creates the file itself if a master restart lost
  // this record. Concurrent creators' records still share one commit.
  ns.recordChunk(req.file_path, req.chunk_id, placed, 0, 0, 0).catch((err: Error) =>
    ctx.log.warn({ file_path: req.file_path, err: err.message }, 'create_file not committed; the primary\'s report records the file'));
  ctx.log.debug({ file_path: req.file_path, chunk_id: req.chunk_id, locations: placed }, 'small file created');
  return { status: 'ok', created: true, chunk_id: req.chunk_id, locations: placed, replication_factor: ctx.replicationFactor };
}

export default defineCommand({ name: 'create_file', access: 'write', request, handle: createFile });
