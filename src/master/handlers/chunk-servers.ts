import type { OkReply } from '../../wire/messages.js';
import type { HeartbeatRequest, RegisterChunkServerRequest } from '../messages.js';
import type { MasterContext } from './context.js';

// The reference chunk server reads no reply to these and closes at once; the `ok` is for
// clients that wait for one.

export async function registerChunkServer(req: RegisterChunkServerRequest, ctx: MasterContext): Promise<OkReply> {
  const isNew = ctx.nodes.registerServer(req.address, req.location);
  if (isNew) ctx.log.info({ address: req.address, location: req.location }, 'chunk server registered');
  return { status: 'ok' };
}

export async function heartbeat(req: HeartbeatRequest, ctx: MasterContext): Promise<OkReply> {
  // A heartbeat from a server we do not know (we restarted, or it was dropped) registers it.
  if (ctx.nodes.heartbeat(req.address, req.location, req.space_info)) {
    ctx.log.info({ address: req.address, location: req.location }, 'chunk server registered by heartbeat');
  }
  for (const chunkId of req.corrupt_chunks) {
    // Its copy is gone to quarantine: it no longer holds the chunk, which makes the chunk
    // pending, and the re-replication loop copies it back from a healthy holder.
    const files = await ctx.meta.dropLocation(chunkId, req.address);
    ctx.log.warn({ address: req.address, chunk_id: chunkId, files }, 'chunk server reported a corrupt chunk');
  }
  return { status: 'ok' };
}
