import type { ChunkFiles } from '../chunks/files.js';
import type { ChunkRecord, ChunkRecords } from '../chunks/records.js';
import { crashPoint } from '../io/crash-points.js';
import { appliesTo, recordAfter, type AppendEntry } from './entry.js';

/**
 * Start-up, before the chunk files are checked against their records: every logged append
 * the metadata store does not have yet is written into its chunk file again (fdatasync),
 * then all the records it leaves are committed in one transaction. An entry made on another
 * record than the store holds (the store is already past it: checkpointed, or the chunk was
 * replaced or deleted since) is skipped. Running it twice is harmless, so a crash during it
 * only means it runs again. Returns how many entries were applied.
 */
export async function replayLog(files: ChunkFiles, records: ChunkRecords, entries: readonly AppendEntry[]): Promise<number> {
  const state = records.all();
  const touched = new Map<string, ChunkRecord>();
  let applied = 0;
  for (const e of entries) {
    const base = touched.get(e.chunkId) ?? state.get(e.chunkId);
    if (!appliesTo(e, base)) continue;
    try {
      await files.writeInPlace(e.chunkId, e.offset, e.data);
    } catch (err) {
      // No file: the record is dropped by the start-up check that follows.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    touched.set(e.chunkId, recordAfter(e, base));
    applied++;
  }
  if (touched.size === 0) return 0;
  for (const id of touched.keys()) await files.syncData(id);
  crashPoint('replay.wal-applied');
  await records.putMany(touched);
  return applied;
}
