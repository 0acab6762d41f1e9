// A file that fits in one chunk, in two round trips (PROTOCOL.md, "Small files"): create_file
// at the master places the file's one chunk, then one store_chunk to the primary, which sends
// it to the placed replicas as it stores its own copy and answers once all of them and the
// master have it. No get_file_metadata before, no add_file after.
import { MSG } from '../errors.js';
import { replyCode } from '../net/peer-errors.js';
import type { Progress } from './bounded.js';
import { GfsError } from './errors.js';
import type { PutDeps, PutResult } from './put-types.js';
import type { ChunkPiece, PieceReader } from './source.js';

/** Null when the master wants the classic put (a reference master, or bytes it already holds); `piece` is then still unsent. */
export async function putSmall(deps: PutDeps, piece: ChunkPiece, remote: string, overwrite: boolean, minCopies: number, progress: Progress): Promise<PutResult | null> {
  const chunkId = await piece.sha256();
  const placed = await deps.master.createFile(remote, chunkId, overwrite);
  if (placed === null) return null;
  const [primary, ...replicas] = placed.locations;
  // The file exists (empty) from here on: any failure takes it away again.
  const fail = async (err: GfsError): Promise<never> => {
    await deps.master.deleteFile(remote).catch((e: Error) => deps.log?.warn({ remote, err: e.message }, 'could not remove the failed small put'));
    throw err;
  };
  if (primary === undefined) return fail(new GfsError('no_servers', `the master at ${deps.master.address} placed ${remote} on no server`));
  if (placed.locations.length < minCopies) {
    return fail(new GfsError('under_replicated', `${remote} was placed on ${placed.locations.length} of the ${minCopies} servers asked for (--min_copies); nothing was stored`));
  }
  const attempt = progress.attempt();
  const body = { command: 'store_chunk', chunk_id: chunkId, file_path: remote, chunk_index: 0, client_id: null, data: piece.body(attempt.add), forward_to: replicas };
  let why: string;
  let full = false;
  try {
    const reply = await deps.call(primary, body);
    if (reply.status === 'ok') return { size: piece.size, chunks: 1, copies: [placed.locations.length], factor: placed.factor };
    full = replyCode(reply.message)?.code === MSG.insufficientSpace;
    why = `${primary}: ${String(reply.message)}`;
  } catch (err) {
    why = `${primary}: ${(err as Error).message}`;
  }
  attempt.undo();
  // The message the classic put gives (store.ts): placement already passed over servers without room.
  if (full) return fail(new GfsError('cluster_full', `cluster full: no server has room for chunk 0 (${piece.size} bytes)`));
  return fail(new GfsError('chunk_unavailable', `${remote} could not be stored on every placed server (${why}); nothing was kept`));
}

/** `reader` with `first` handed out again first (a piece taken for putSmall that went the classic way). */
export function withFirst(first: ChunkPiece, reader: PieceReader): PieceReader {
  let pending: ChunkPiece | null = first;
  return {
    size: reader.size,
    async take(max) {
      const p = pending;
      pending = null;
      return p ?? reader.take(max);
    },
    close: () => reader.close(),
  };
}
