import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChunkFiles } from '../chunk-files.js';
import type { ChunkRecord, ChunkRecords } from '../chunk-records.js';
import { crashPoint } from '../crash-points.js';
import { appliesTo, recordAfter, unpack, type AppendEntry } from './wal-entry.js';
import { framesIn } from './wal-frame.js';
import { WAL_FILES } from './write-ahead-log.js';

export interface LogContents {
  /** Every whole record of both files, oldest generation first. */
  readonly entries: AppendEntry[];
  /** The generation new records take. */
  readonly nextGeneration: number;
  /** Bytes after the last whole frame (a write torn by the crash): never acknowledged, dropped. */
  readonly tornBytes: number;
}

/** Reads both log files; a missing file (a v1 or older v2 directory) holds nothing. */
export async function readLogs(metaDir: string): Promise<LogContents> {
  const files: Array<{ generation: number; entries: AppendEntry[] }> = [];
  let tornBytes = 0;
  let maxGeneration = 0;
  for (const name of WAL_FILES) {
    let bytes: Buffer;
    try {
      bytes = await readFile(join(metaDir, name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    const { bodies, validBytes } = framesIn(bytes);
    tornBytes += bytes.length - validBytes;
    const [head, ...rest] = bodies.map(unpack);
    if (head?.kind !== 'header') continue;
    const entries: AppendEntry[] = [];
    for (const u of rest) if (u.kind === 'append') entries.push(u.entry);
    files.push({ generation: head.generation, entries });
    maxGeneration = Math.max(maxGeneration, head.generation);
  }
  files.sort((a, b) => a.generation - b.generation);
  return { entries: files.flatMap((f) => f.entries), nextGeneration: maxGeneration + 1, tornBytes };
}

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
