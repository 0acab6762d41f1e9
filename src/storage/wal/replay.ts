import { sameIdentity, type FileIdentity } from '../checksums/block-sums.js';
import type { ChunkFiles } from '../chunks/files.js';
import type { ChunkRecord, ChunkRecords } from '../chunks/records.js';
import { crashPoint } from '../io/crash-points.js';
import { appliesTo, recordAfter, type LogEntry } from './entry.js';
import { recordOfStore, type StoreEntry } from './store-entry.js';

/**
 * Start-up, before the chunk files are checked against their records: every logged append
 * or store the metadata store does not have yet is written into its chunk file again
 * (fdatasync; a store into a new file renamed over the chunk, then the directory), then all
 * the records it leaves are committed in one transaction. An entry made on another record
 * than the store holds (the store is already past it: checkpointed, or the chunk was
 * replaced or deleted since) is skipped. A store's file gets a new identity here: later
 * entries naming the file the store had made are read as naming this one; a logged delete
 * takes back what replay made of the chunk before it. Running it twice
 * is harmless, so a crash during it only means it runs again. Returns how many entries were
 * applied.
 */
export async function replayLog(files: ChunkFiles, records: ChunkRecords, entries: readonly LogEntry[]): Promise<number> {
  const state = records.all();
  const touched = new Map<string, ChunkRecord>();
  const moved = new Map<string, FileIdentity>();
  const resolve = (id: FileIdentity): FileIdentity => moved.get(keyOf(id)) ?? id;
  const removed = new Set<string>();
  let applied = 0;
  let renamed = false;
  for (const e of entries) {
    const base = touched.get(e.chunkId) ?? (removed.has(e.chunkId) ? undefined : state.get(e.chunkId));
    if ('kind' in e && e.kind === 'delete') {
      if (!touched.delete(e.chunkId)) continue;
      await files.remove(e.chunkId);
      removed.add(e.chunkId);
      renamed = true;
      applied++;
      continue;
    }
    if ('kind' in e) {
      if (!storeApplies(e, base, resolve)) continue;
      removed.delete(e.chunkId);
      const temp = files.tempPath();
      const written = await files.writeNew(temp, e.data);
      await files.install(temp, e.chunkId);
      // Later entries of this chunk (appends) go to the file just made, not a tagged one the record named.
      files.nameData(e.chunkId, undefined);
      moved.set(keyOf(e.identity), written.identity);
      touched.set(e.chunkId, recordOfStore(e, written.identity));
      renamed = true;
      applied++;
      continue;
    }
    const entry = { ...e, ...resolve({ ino: e.ino, btimeNs: e.btimeNs }) };
    if (!appliesTo(entry, base)) continue;
    try {
      await files.writeInPlace(e.chunkId, e.offset, e.data);
    } catch (err) {
      // No file: the record is dropped by the start-up check that follows.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    touched.set(e.chunkId, recordAfter(entry, base));
    applied++;
  }
  if (touched.size === 0 && removed.size === 0) return 0;
  for (const id of touched.keys()) await files.syncData(id);
  if (renamed) await files.syncDir();
  crashPoint('replay.wal-applied');
  await records.putMany(touched, removed);
  return applied;
}

/** Does the store apply on top of `base`? Not when `base` is its own result (checkpointed) or another version than it replaced. */
function storeApplies(e: StoreEntry, base: ChunkRecord | undefined, resolve: (id: FileIdentity) => FileIdentity): boolean {
  if (base && sameIdentity(base, e.identity)) return false;
  if (e.base === null) return base === undefined;
  return base !== undefined && base.version === e.base.version && sameIdentity(base, resolve(e.base.identity));
}

function keyOf(id: FileIdentity): string {
  return `${id.ino}:${id.btimeNs}`;
}
