import type { FileMetadata } from '../../wire/file-metadata.js';
import type { Database } from 'lmdb';
import type { ChunkRecord, DecommissionRecord } from './records.js';

/**
 * One change of the namespace as the journal carries it (README, "Several masters"): the
 * value a key takes, never the operation that made it, so applying a record twice, or
 * applying it over a store that already has it, leaves the same state. Index entries
 * (`refs`) are derived by whoever applies it, from the file's value before and after.
 */
export type JournalRecord =
  | { t: 'file'; path: string; meta: FileMetadata | null }
  | { t: 'chunk'; id: string; rec: ChunkRecord | null }
  /** A decommission started (rec) or finished (null): a new leader carries it on. */
  | { t: 'decommission'; address: string; rec: DecommissionRecord | null };

/**
 * Where a namespace change must be made durable before it is applied and acknowledged.
 * Resolves with the change's journal sequence number; rejects when it is not durable
 * (refused by a fence, or the journal is unreachable), and then nothing may be applied.
 */
export interface JournalSink {
  append(records: readonly JournalRecord[]): Promise<number>;
}

/** The stores a journal entry changes: files by path, chunk records, the chunk -> files index, decommissions. */
export interface JournalStores {
  readonly files: Database<FileMetadata, string>;
  readonly chunks: Database<ChunkRecord, string>;
  readonly refs: Database<string, string>;
  readonly decommissions: Database<DecommissionRecord, string>;
}

/** Applies `records` synchronously; the caller holds the transaction (and moves the sequence number in it). */
export function applyRecords(stores: JournalStores, records: readonly JournalRecord[]): void {
  for (const r of records) {
    if (r.t === 'chunk') {
      if (r.rec === null) stores.chunks.removeSync(r.id);
      else stores.chunks.putSync(r.id, r.rec);
      continue;
    }
    if (r.t === 'decommission') {
      if (r.rec === null) stores.decommissions.removeSync(r.address);
      else stores.decommissions.putSync(r.address, r.rec);
      continue;
    }
    const old = stores.files.get(r.path) ?? null;
    const before = new Set(old?.chunk_ids ?? []);
    const after = new Set(r.meta?.chunk_ids ?? []);
    if (r.meta === null) stores.files.removeSync(r.path);
    else stores.files.putSync(r.path, r.meta);
    for (const id of before) if (!after.has(id)) stores.refs.removeSync(id, r.path);
    for (const id of after) if (!before.has(id)) stores.refs.putSync(id, r.path);
  }
}
