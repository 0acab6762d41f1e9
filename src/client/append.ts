// Appends as the reference does: the part that fits in the file's last chunk goes to every
// holder in two phases (prepare_append on all, then commit_append on all, else
// rollback_append), then update_chunk_offset; the rest starts new chunks.
import type { Logger } from 'pino';
import { Progress } from './bounded.js';
import { PeerError } from '../errors.js';
import { GfsError } from './errors.js';
import type { MasterApi } from './master-api.js';
import type { ChunkPiece, PieceReader } from './source.js';
import { storeChunk, type Caller } from './store.js';
import { writableServers } from './put.js';

export interface AppendDeps {
  readonly master: MasterApi;
  readonly call: Caller;
  readonly chunkSize: number;
  readonly log?: Logger;
}

let lastTx = 0;

/** The reference's str(int(time.time()*1000)), kept increasing within this process. */
function transactionId(): string {
  lastTx = Math.max(Date.now(), lastTx + 1);
  return String(lastTx);
}

async function tryCall(call: Caller, address: string, body: Record<string, unknown>): Promise<{ ok: boolean; why: string }> {
  try {
    const reply = await call(address, body);
    return { ok: reply.status === 'ok', why: `${address}: ${String(reply.message)}` };
  } catch (err) {
    return { ok: false, why: err instanceof PeerError ? err.message : `${address}: ${(err as Error).message}` };
  }
}

async function twoPhase(deps: AppendDeps, remote: string, chunkId: string, offset: number, piece: ChunkPiece): Promise<void> {
  const live = new Set(await deps.master.liveServers());
  const all = await deps.master.chunkLocations(remote, chunkId);
  // A holder the master no longer counts live cannot take part; its copy is stale from here
  // on and readers refuse it (shorter than the recorded length).
  const holders = all.filter((a) => live.has(a));
  if (holders.length === 0) throw new GfsError('chunk_unavailable', `no live holder of the last chunk of ${remote} (${chunkId})`);
  const tx = transactionId();
  const prepared: string[] = [];
  let refused: string | null = null;
  for (const holder of holders) {
    const r = await tryCall(deps.call, holder, { command: 'prepare_append', chunk_id: chunkId, transaction_id: tx, data: piece.body(), offset });
    if (!r.ok) {
      refused = r.why;
      break;
    }
    prepared.push(holder);
  }
  if (refused !== null) {
    await Promise.all(prepared.map((h) => tryCall(deps.call, h, { command: 'rollback_append', chunk_id: chunkId, transaction_id: tx })));
    const full = refused.endsWith('insufficient_space');
    throw new GfsError(full ? 'cluster_full' : 'chunk_unavailable', `append to ${remote} refused (${refused}); nothing was changed`);
  }
  const failed: string[] = [];
  for (const holder of prepared) {
    const r = await tryCall(deps.call, holder, { command: 'commit_append', chunk_id: chunkId, transaction_id: tx });
    if (!r.ok) failed.push(r.why);
  }
  if (failed.length === prepared.length) throw new GfsError('chunk_unavailable', `append to ${remote} was not committed (${failed.join('; ')})`);
  if (failed.length > 0) deps.log?.warn({ remote, chunk_id: chunkId, failed }, 'commit_append failed on some holders; their copies are stale');
  await deps.master.updateChunkOffset(remote, chunkId, offset + piece.size);
}

/** Returns the bytes appended. The file must exist (the caller creates it with put). */
export async function append(deps: AppendDeps, reader: PieceReader, remote: string, onProgress?: (done: number, total: number | undefined) => void): Promise<number> {
  const progress = new Progress(reader.size, onProgress);
  let appended = 0;
  for (;;) {
    const meta = await deps.master.metadata(remote);
    if (!meta) throw new GfsError('file_not_found', `no such file: ${remote}`);
    const last = meta.last_chunk_id;
    const room = last === null ? 0 : deps.chunkSize - meta.last_chunk_offset;
    const piece = await reader.take(room > 0 ? room : deps.chunkSize);
    if (!piece) return appended;
    try {
      if (room > 0 && last !== null) await twoPhase(deps, remote, last, meta.last_chunk_offset, piece);
      else await storeChunk(deps.call, await writableServers(deps.master), remote, meta.chunk_ids.length, piece, new Progress(undefined), deps.log);
    } finally {
      await piece.release();
    }
    appended += piece.size;
    progress.add(piece.size);
  }
}
