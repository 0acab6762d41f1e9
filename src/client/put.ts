// Uploads: a file that fits in one chunk in two round trips (small-put.ts); larger ones (and
// any file for a master without create_file) as new chunks through primaries, several at
// once, then add_file with the chunks in file order, since primaries report them as they finish.
import { Progress, runBounded } from './bounded.js';
import { GfsError } from './errors.js';
import type { MasterApi } from './master-api.js';
import type { PutDeps, PutResult } from './put-types.js';
import type { PieceReader } from './source.js';
import { putSmall, withFirst } from './small-put.js';
import { storeChunk } from './store.js';

export type { PutDeps, PutResult } from './put-types.js';

/** Live servers that take new chunks, or no_servers. */
export async function writableServers(master: MasterApi): Promise<string[]> {
  const servers = await master.placementServers();
  if (servers.length === 0) throw new GfsError('no_servers', `the master at ${master.address} knows no live chunk server`);
  return servers;
}

/**
 * Clears the way for a new file at `remote`: delete_file; a master without it gets the path
 * emptied with add_file instead (the old chunks then stay on the servers, unreferenced).
 */
async function replaceable(master: MasterApi, remote: string): Promise<void> {
  try {
    await master.deleteFile(remote);
  } catch (err) {
    if (!(err instanceof GfsError) || err.code !== 'unsupported') throw err;
    await master.addFile(remote, 0, []);
  }
}

/**
 * `minCopies`: a chunk stored with fewer copies fails the put (under_replicated), and what was
 * stored is removed, so a file is never left with fewer copies than the caller asked for.
 */
export async function put(deps: PutDeps, input: PieceReader, remote: string, overwrite: boolean, minCopies: number, onProgress?: (done: number, total: number | undefined) => void): Promise<PutResult> {
  const { master } = deps;
  let reader = input;
  if (reader.size !== undefined && reader.size > 0 && reader.size <= deps.chunkSize) {
    const piece = await reader.take(deps.chunkSize);
    if (piece) {
      let small: PutResult | null;
      try {
        small = await putSmall(deps, piece, remote, overwrite, minCopies, new Progress(reader.size, onProgress));
      } catch (err) {
        await piece.release();
        throw err;
      }
      if (small) {
        await piece.release();
        return small;
      }
      reader = withFirst(piece, reader);
    }
  }
  if (await master.metadata(remote)) {
    if (!overwrite) throw new GfsError('file_exists', `${remote} already exists (overwrite it with --force)`);
    await replaceable(master, remote);
  }
  const servers = await writableServers(master);
  const progress = new Progress(reader.size, onProgress);
  const ids: string[] = [];
  const copies: number[] = [];
  let size = 0;
  let index = 0;
  try {
    await runBounded(
      async () => {
        const piece = await reader.take(deps.chunkSize);
        return piece && { piece, index: index++ };
      },
      deps.concurrency,
      async ({ piece, index }) => {
        try {
          const stored = await storeChunk(deps.call, servers, remote, index, piece, progress, deps.log);
          ids[index] = stored.chunkId;
          copies[index] = 1 + stored.replicas;
          size += piece.size;
        } finally {
          await piece.release();
        }
      },
    );
    const fewest = Math.min(...copies);
    if (copies.length > 0 && fewest < minCopies) {
      const index = copies.indexOf(fewest);
      throw new GfsError('under_replicated', `chunk ${index} was stored with ${fewest} of the ${minCopies} copies asked for (--min_copies); the upload was removed`);
    }
    await master.addFile(remote, size, ids);
  } catch (err) {
    // Chunks already stored were recorded under the path: take the half-made file away.
    if (index > 0) await master.deleteFile(remote).catch((e: Error) => deps.log?.warn({ remote, err: e.message }, 'could not remove the partial upload'));
    throw err;
  }
  return { size, chunks: ids.length, copies, factor: await master.replicationFactor() };
}
