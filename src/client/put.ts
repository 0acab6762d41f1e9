// Uploads: new chunks through primaries (several at once), then add_file with the chunks in
// file order, since primaries report them to the master in the order they finish.
import type { Logger } from 'pino';
import { Progress, runBounded } from './bounded.js';
import { GfsError } from './errors.js';
import type { MasterApi } from './master-api.js';
import type { PieceReader } from './source.js';
import { storeChunk, type Caller } from './store.js';

export interface PutDeps {
  readonly master: MasterApi;
  readonly call: Caller;
  readonly chunkSize: number;
  readonly concurrency: number;
  readonly log?: Logger;
}

export interface PutResult {
  readonly size: number;
  readonly chunks: number;
}

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

export async function put(deps: PutDeps, reader: PieceReader, remote: string, overwrite: boolean, onProgress?: (done: number, total: number | undefined) => void): Promise<PutResult> {
  const { master } = deps;
  if (await master.metadata(remote)) {
    if (!overwrite) throw new GfsError('file_exists', `${remote} already exists (overwrite it with --force)`);
    await replaceable(master, remote);
  }
  const servers = await writableServers(master);
  const progress = new Progress(reader.size, onProgress);
  const ids: string[] = [];
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
          size += piece.size;
        } finally {
          await piece.release();
        }
      },
    );
    await master.addFile(remote, size, ids);
  } catch (err) {
    // Chunks already stored were recorded under the path: take the half-made file away.
    if (index > 0) await master.deleteFile(remote).catch((e: Error) => deps.log?.warn({ remote, err: e.message }, 'could not remove the partial upload'));
    throw err;
  }
  return { size, chunks: ids.length };
}
