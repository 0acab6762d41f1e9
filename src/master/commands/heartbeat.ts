import { defineCommand, type OkReply, type RequestOf } from '../../commands/define.js';
import { address, chunkId, location } from '../../commands/fields.js';
import { fail, isMap, list, optional, record, shape, str, uint, type Field } from '../../commands/shape.js';
import { isSafeId } from '../../safe-name.js';
import type { MasterContext } from './context.js';

// A chunk longer than this is not a chunk (the largest frame is 4 GiB).
const MAX_CHUNK_BYTES = 2 ** 32;
const DIGEST = /^[0-9a-f]{1,128}$/;
// Report lists: more than any server holds; a frame's million values bound them first.
const MAX_REPORTED_CHUNKS = 50_000_000;
const MAX_FAILED_COPIES = 1_000_000;
const MAX_CORRUPT_CHUNKS = 1_000_000;
// The reference never checked these ids; ours are safe ids, far shorter.
const MAX_CORRUPT_ID_BYTES = 1024;

// A bad entry is answered `bad_request: <list> <field>`: the server logs it and retries.
const summary = record(
  {
    chunk_id: str({ maxBytes: 128, test: isSafeId }),
    length: uint({ max: MAX_CHUNK_BYTES }),
    version: optional(uint(), 0),
    digest: str({ maxBytes: 128, test: (d) => DIGEST.test(d) }),
  },
  { qualified: true },
);

/** A summary, or `{chunk_id, deleted: true}` for a chunk gone. */
const change: Field<ReturnType<typeof summary.check> | { chunk_id: string; deleted: true }> = {
  check: (v, label) => {
    const e = isMap(v) ? v : fail(label);
    if (e.deleted === true) return { chunk_id: chunkId().check(e.chunk_id, 'chunk_id'), deleted: true };
    return summary.check(e, label);
  },
};

const request = shape({
  address: address(),
  location: optional(location()),
  space_info: optional(record({ total: uint(), used: uint() })),
  /** Chunks the server found corrupt and quarantined; our extension, which the reference ignores. */
  corrupt_chunks: optional(list(str({ maxBytes: MAX_CORRUPT_ID_BYTES }), { max: MAX_CORRUPT_CHUNKS }), []),
  /** Our extensions (PROTOCOL.md, "Chunk reports"): everything held (null: not sent), changes since the last beat, copies that failed. */
  chunk_report: optional(list(summary, { max: MAX_REPORTED_CHUNKS })),
  chunk_changes: optional(list(change, { max: MAX_REPORTED_CHUNKS }), []),
  failed_copies: optional(list(record({ chunk_id: chunkId(), target: address() }), { max: MAX_FAILED_COPIES }), []),
});

/**
 * heartbeat: liveness and space, plus (our extensions) the server's chunk report or its
 * changes since the last beat, corrupt chunks, and copies that failed. The reply carries
 * the instructions queued for the server, and `report_wanted` while the master has no full
 * report from it (it restarted, or the server was dead).
 */
async function heartbeat(req: RequestOf<'heartbeat', typeof request>, ctx: MasterContext): Promise<OkReply> {
  const { map, repairer, log } = ctx;
  const now = Date.now();
  // A heartbeat from a server we do not know (we restarted, or it was dropped) registers it.
  if (ctx.nodes.heartbeat(req.address, req.location, req.space_info)) {
    map.unreported(req.address);
    log.info({ address: req.address, location: req.location }, 'chunk server registered by heartbeat');
  }
  // Liveness and reports do not wait on the member record: one the store refused is tried at the next beat.
  await ctx.members.saw(ctx.nodes.server(req.address)!).catch((err: unknown) => log.error({ err, address: req.address }, 'could not record the chunk server as a member'));
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
    for (const c of req.chunk_changes) {
      repairer.observed(req.address, c.chunk_id, !('deleted' in c));
      if (!('deleted' in c)) repairer.stored(req.address, c.chunk_id);
    }
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

// The reference chunk server reads no reply and closes at once; the `ok` and the
// instructions are for servers that wait for one.
export default defineCommand({ name: 'heartbeat', access: 'member', sender: 'address', request, handle: heartbeat });
