import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { unpack, type LogEntry } from './entry.js';
import { framesIn } from './frame.js';
import { WAL_FILES } from './writer.js';

export interface LogContents {
  /** Every whole record of both files, oldest generation first. */
  readonly entries: LogEntry[];
  /** The generation new records take. */
  readonly nextGeneration: number;
  /** Bytes after the last whole frame (a write torn by the crash): never acknowledged, dropped. */
  readonly tornBytes: number;
}

/** Reads both log files; a missing file (a v1 or older v2 directory) holds nothing. */
export async function readLogs(metaDir: string): Promise<LogContents> {
  const files: Array<{ generation: number; entries: LogEntry[] }> = [];
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
    const entries: LogEntry[] = [];
    for (const u of rest) if (u.kind === 'append' || u.kind === 'store' || u.kind === 'delete') entries.push(u.entry);
    files.push({ generation: head.generation, entries });
    maxGeneration = Math.max(maxGeneration, head.generation);
  }
  files.sort((a, b) => a.generation - b.generation);
  return { entries: files.flatMap((f) => f.entries), nextGeneration: maxGeneration + 1, tornBytes };
}
