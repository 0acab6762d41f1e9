import { createHash } from 'node:crypto';
import { defineCommand, type OkReply, type RequestOf } from '../../commands/define.js';
import { address, chunkId, filePath, MAX_BIN_BYTES } from '../../commands/fields.js';
import { bytes, list, optional, shape, uint } from '../../commands/shape.js';
import { BadRequestError, ForwardRefusedError, ReplicationFailedError } from '../../errors.js';
import { replyCode } from '../../net/peer-errors.js';
import type { HandlerContext } from './context.js';

// Servers in one chain at most: each hop waits for the rest, so a long chain holds a
// peer slot on every server for peer_timeout_s x its length (protocol/PROTOCOL.md, limits).
const MAX_CHAIN_SERVERS = 8;

const request = shape(
  {
    data: bytes({ maxBytes: MAX_BIN_BYTES }),
    /** The reference sends none and keys the chunk by sha256(data); when given it is used. */
    chunk_id: optional(chunkId()),
    file_path: optional(filePath()),
    chunk_index: optional(uint()),
    /** The chain, as "host:port"; this server is `replica_servers[current_replica]`. Its own bound, with its own message, is checked below. */
    replica_servers: list(address({ checked: false }), { max: 1_000_000 }),
    current_replica: uint(),
    /** The chunk version to take (a primary forwarding its own); absent: the next one. */
    version: optional(uint()),
  },
  (req) => {
    const chain = req.replica_servers;
    if (chain.length > MAX_CHAIN_SERVERS) throw new BadRequestError(`replica_servers (more than ${MAX_CHAIN_SERVERS})`);
    if (new Set(chain).size !== chain.length) throw new BadRequestError('replica_servers (an address twice)');
    return { ...req, chunk_id: req.chunk_id ?? createHash('sha256').update(req.data).digest('hex') };
  },
);
type ReplicateChunkRequest = RequestOf<'replicate_chunk', typeof request>;

/**
 * replicate_chunk, the chain the reference meant to have: store, then hand the chunk to
 * `replica_servers[current_replica + 1]`, and answer ok only once the rest of the chain has.
 */
async function replicateChunk(req: ReplicateChunkRequest, ctx: HandlerContext): Promise<OkReply> {
  const chain = req.replica_servers;
  const version = await ctx.store.write(req.chunk_id, req.data, req.version ?? undefined);
  const next = chain[req.current_replica + 1];
  // Like a dead link, as seen from upstream: this server keeps its copy, the chain stops here.
  if (next !== undefined && !(await ctx.cluster.mayForward(next))) throw new ForwardRefusedError(next);
  if (next !== undefined) {
    const failedAt = await forward(next, req, ctx);
    if (failedAt !== null) throw new ReplicationFailedError(failedAt);
  }
  ctx.log.debug({ chunk_id: req.chunk_id, position: req.current_replica, chain: req.replica_servers.length }, 'replicated chunk');
  return { status: 'ok', chunk_id: req.chunk_id, version };
}

/** Sends the chunk down the chain: null once the rest of it holds the chunk, else the link that failed. */
async function forward(next: string, req: ReplicateChunkRequest, ctx: HandlerContext): Promise<string | null> {
  const nextIndex = req.current_replica + 1;
  const request = {
    command: 'replicate_chunk',
    chunk_id: req.chunk_id,
    data: req.data,
    file_path: req.file_path,
    chunk_index: req.chunk_index,
    replica_servers: req.replica_servers,
    current_replica: nextIndex,
    version: ctx.store.versionOf(req.chunk_id),
  };
  let reply;
  try {
    reply = await ctx.cluster.forwardChain(next, request, req.replica_servers.length - nextIndex);
  } catch (err) {
    ctx.log.warn({ chunk_id: req.chunk_id, next, err: (err as Error).message }, 'next link of the chain unreachable');
    return next;
  }
  if (reply.status === 'ok') return null;
  // A link further down failed, or was refused by its predecessor: name that one, not our neighbour.
  const refused = replyCode(reply.message);
  if (refused?.detail != null && (refused.code === ReplicationFailedError.code || refused.code === ForwardRefusedError.code)) return refused.detail;
  ctx.log.warn({ chunk_id: req.chunk_id, next, message: reply.message }, 'next link of the chain refused the chunk');
  return next;
}

export default defineCommand({
  name: 'replicate_chunk',
  // A chain hop past the first link comes from the link before it.
  access: (f) => (typeof f.current_replica === 'number' && f.current_replica > 0 ? 'member' : 'write'),
  request,
  handle: replicateChunk,
});
