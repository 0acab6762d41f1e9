import type { OkReply } from '../../wire/messages.js';
import type { HeartbeatRequest, RegisterChunkServerRequest } from '../messages.js';
import type { MasterContext } from './context.js';

// The reference chunk server reads no reply to these and closes at once; the `ok` (and the
// heartbeat's instructions) are for servers that wait for one.

export async function registerChunkServer(req: RegisterChunkServerRequest, ctx: MasterContext): Promise<OkReply> {
  const isNew = ctx.nodes.registerServer(req.address, req.location);
  if (isNew) {
    // Whatever it held before it was gone may have changed: only a full report counts.
    ctx.map.unreported(req.address);
    ctx.log.info({ address: req.address, location: req.location }, 'chunk server registered');
  }
  return { status: 'ok' };
}

/**
 * heartbeat: liveness and space, plus (our extensions) the server's chunk report or its
 * changes since the last beat, corrupt chunks, and copies that failed. The reply carries
 * the instructions queued for the server, and `report_wanted` while the master has no full
 * report from it (it restarted, or the server was dead).
 */
export async function heartbeat(req: HeartbeatRequest, ctx: MasterContext): Promise<OkReply> {
  const { map, repairer, log } = ctx;
  const now = Date.now();
  // A heartbeat from a server we do not know (we restarted, or it was dropped) registers it.
  if (ctx.nodes.heartbeat(req.address, req.location, req.space_info)) {
    map.unreported(req.address);
    log.info({ address: req.address, location: req.location }, 'chunk server registered by heartbeat');
  }
  if (req.chunk_report !== null) {
    const before = new Set(map.chunksOn(req.address));
    map.replace(req.address, req.chunk_report, now);
    for (const c of req.chunk_report) {
      before.delete(c.chunk_id);
      repairer.observed(req.address, c.chunk_id, true);
    }
    for (const id of before) repairer.observed(req.address, id, false);
    log.info({ address: req.address, chunks: req.chunk_report.length }, 'full chunk report');
  }
  if (req.chunk_changes.length > 0) {
    map.changes(req.address, req.chunk_changes, now);
    for (const c of req.chunk_changes) repairer.observed(req.address, c.chunk_id, !('deleted' in c));
  } else if (map.reports(req.address)) {
    map.changes(req.address, [], now);
  }
  for (const chunkId of req.corrupt_chunks) {
    // Its copy is gone to quarantine: it no longer holds the chunk, which makes the chunk
    // under-replicated, and the next repair pass has a healthy holder copy it back.
    map.drop(chunkId, req.address);
    repairer.observed(req.address, chunkId, false);
    log.warn({ address: req.address, chunk_id: chunkId }, 'chunk server reported a corrupt chunk');
  }
  for (const f of req.failed_copies) {
    repairer.copyFailed(f.chunk_id, f.target);
    log.warn({ address: req.address, chunk_id: f.chunk_id, target: f.target }, 'instructed copy failed');
  }
  const reply: OkReply = { status: 'ok' };
  const instructions = repairer.take(req.address);
  if (instructions.length > 0) reply.instructions = instructions;
  if (!map.reports(req.address)) reply.report_wanted = true;
  return reply;
}
