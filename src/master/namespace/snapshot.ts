// The whole namespace as journal records, and back (README, "Several masters": snapshots
// and compaction). A snapshot is what a master that starts behind the journal's oldest
// entry loads before it tails the rest.
import type { Database, RootDatabase } from 'lmdb';
import { applyRecords, type JournalRecord, type JournalStores } from './journal-record.js';

// Key in `meta` of the last journal entry applied ([master] etcd_endpoints).
export const JOURNAL_SEQ = 'journal_seq';

export interface SnapshotStores extends JournalStores {
  readonly env: RootDatabase;
  readonly meta: Database<unknown, string>;
}

export interface NamespaceSnapshot {
  /** The last journal entry the snapshot holds. */
  readonly seq: number;
  readonly records: JournalRecord[];
}

function seqIn(meta: Database<unknown, string>): number {
  const seq = meta.get(JOURNAL_SEQ);
  return typeof seq === 'number' ? seq : 0;
}

/**
 * Every file, chunk record and decommission, read in one transaction with the journal
 * position they stand at, so the snapshot is the state after exactly entry `seq`.
 */
export function takeSnapshot(s: SnapshotStores): NamespaceSnapshot {
  return s.env.transactionSync(() => {
    const records: JournalRecord[] = [];
    for (const { key, value } of s.files.getRange()) records.push({ t: 'file', path: key, meta: value });
    for (const { key, value } of s.chunks.getRange()) records.push({ t: 'chunk', id: key, rec: value });
    for (const { key, value } of s.decommissions.getRange()) records.push({ t: 'decommission', address: key, rec: value });
    return { seq: seqIn(s.meta), records };
  });
}

/** Replaces everything the journal carries with the snapshot, and its position, in one transaction. */
export function loadSnapshot(s: SnapshotStores, snapshot: NamespaceSnapshot): void {
  s.env.transactionSync(() => {
    for (const db of [s.files, s.chunks, s.refs, s.decommissions] as Database<unknown, string>[]) db.clearSync();
    applyRecords(s, snapshot.records);
    s.meta.putSync(JOURNAL_SEQ, snapshot.seq);
  });
}

/** Applies one journal entry and moves the position to it, in one transaction. */
export function applyEntry(s: SnapshotStores, seq: number, records: readonly JournalRecord[]): void {
  s.env.transactionSync(() => {
    applyRecords(s, records);
    s.meta.putSync(JOURNAL_SEQ, seq);
  });
}

export function journalPosition(s: SnapshotStores): number {
  return seqIn(s.meta);
}
