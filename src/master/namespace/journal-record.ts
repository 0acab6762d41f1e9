import type { FileMetadata } from '../../wire/file-metadata.js';
import type { ChunkRecord } from './namespace.js';

/**
 * One change of the namespace as the journal carries it (README, "Several masters"): the
 * value a key takes, never the operation that made it, so applying a record twice, or
 * applying it over a store that already has it, leaves the same state. Index entries
 * (`refs`) are derived by whoever applies it, from the file's value before and after.
 */
export type JournalRecord =
  | { t: 'file'; path: string; meta: FileMetadata | null }
  | { t: 'chunk'; id: string; rec: ChunkRecord | null };

/**
 * Where a namespace change must be made durable before it is applied and acknowledged.
 * Resolves with the change's journal sequence number; rejects when it is not durable
 * (refused by a fence, or the journal is unreachable), and then nothing may be applied.
 */
export interface JournalSink {
  append(records: readonly JournalRecord[]): Promise<number>;
}
