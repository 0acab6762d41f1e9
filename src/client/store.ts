// Storing one new chunk the reference's way: store_chunk to a primary, which replicates and
// tells the master; on insufficient_space or a dead server, the next server.
import type { Logger } from 'pino';
import { MSG } from '../errors.js';
import { PeerError, replyCode } from '../net/peer-errors.js';
import { GfsError } from './errors.js';
import type { Progress } from './bounded.js';
import type { Reply } from '../net/rpc.js';
import type { ChunkPiece } from './source.js';

export type Caller = (address: string, body: Reply) => Promise<Reply>;

export interface StoredChunk {
  readonly chunkId: string;
  readonly primary: string;
  readonly replicas: number;
}

/** Primaries are taken in turn from `servers`, starting at the chunk's index, so load spreads. */
export async function storeChunk(
  call: Caller,
  servers: string[],
  filePath: string,
  index: number,
  piece: ChunkPiece,
  progress: Progress,
  log?: Logger,
): Promise<StoredChunk> {
  const chunkId = await piece.sha256();
  const reasons: string[] = [];
  let full = 0;
  for (let k = 0; k < servers.length; k++) {
    const server = servers[(index + k) % servers.length]!;
    const attempt = progress.attempt();
    let reply: Reply;
    try {
      reply = await call(server, {
        command: 'store_chunk',
        chunk_id: chunkId,
        file_path: filePath,
        chunk_index: index,
        client_id: null,
        data: piece.body(attempt.add),
      });
    } catch (err) {
      attempt.undo();
      reasons.push(err instanceof PeerError ? err.message : `${server}: ${(err as Error).message}`);
      log?.warn({ server, chunk_index: index, err: (err as Error).message }, 'store failed; trying the next server');
      continue;
    }
    if (reply.status === 'ok') return { chunkId, primary: server, replicas: Number(reply.replicas ?? 0) };
    attempt.undo();
    if (replyCode(reply.message)?.code === MSG.insufficientSpace) full++;
    reasons.push(`${server}: ${String(reply.message)}`);
    log?.warn({ server, chunk_index: index, message: reply.message }, 'store refused; trying the next server');
  }
  if (full === servers.length) throw new GfsError('cluster_full', `cluster full: no server has room for chunk ${index} (${piece.size} bytes)`);
  throw new GfsError('chunk_unavailable', `chunk ${index} could not be stored on any server (${reasons.join('; ')})`);
}
