import { badRequest, forwardRefused, replicationFailed } from '../../errors.js';
import type { OkReply, ReplicateChunkRequest } from '../../wire/messages.js';
import type { HandlerContext } from './context.js';

const CHAIN_FAILURE_PREFIX = 'replication_failed: ';
const FORWARD_REFUSED_PREFIX = 'forward_refused: ';
// Servers in one chain at most: each hop waits for the rest, so a long chain holds a
// peer slot on every server for peer_timeout_s x its length (protocol/PROTOCOL.md, limits).
export const MAX_CHAIN_SERVERS = 8;

/**
 * replicate_chunk, the chain the reference meant to have: store, then hand the chunk to
 * `replica_servers[current_replica + 1]`, and answer ok only once the rest of the chain has.
 */
export async function replicateChunk(req: ReplicateChunkRequest, ctx: HandlerContext): Promise<OkReply> {
  const chain = req.replica_servers;
  if (chain.length > MAX_CHAIN_SERVERS) throw badRequest(`replica_servers (more than ${MAX_CHAIN_SERVERS})`);
  if (new Set(chain).size !== chain.length) throw badRequest('replica_servers (an address twice)');
  const version = await ctx.store.write(req.chunk_id, req.data, req.version ?? undefined);
  const next = chain[req.current_replica + 1];
  // Like a dead link, as seen from upstream: this server keeps its copy, the chain stops here.
  if (next !== undefined && !(await ctx.cluster.mayForward(next))) throw forwardRefused(next);
  if (next !== undefined) {
    const failedAt = await forward(next, req, ctx);
    if (failedAt !== null) throw replicationFailed(failedAt);
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
  for (const prefix of [CHAIN_FAILURE_PREFIX, FORWARD_REFUSED_PREFIX]) {
    if (typeof reply.message === 'string' && reply.message.startsWith(prefix)) return reply.message.slice(prefix.length);
  }
  ctx.log.warn({ chunk_id: req.chunk_id, next, message: reply.message }, 'next link of the chain refused the chunk');
  return next;
}
