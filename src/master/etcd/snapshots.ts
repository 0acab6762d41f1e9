import { Range, type Etcd3 } from 'etcd3';
import type { JournalRecord } from '../namespace/journal-record.js';
import type { NamespaceSnapshot } from '../namespace/snapshot.js';
import { journalKey, journalPrefix, snapshotDir, snapshotKey, snapshotPartKey, snapshotPartsPrefix } from './keys.js';
import type { Fence } from './leadership.js';

// One part's JSON stays well under etcd's 1.5 MiB request limit; a part holds at least one
// record, and one record is bounded as a journal entry is (README, "Several masters").
const PART_BYTES = 512 * 1024;
// Parts read per range request: a reply stays under gRPC's 4 MiB receive limit.
const READ_PAGE = 2;

/** The whole snapshot named by `<prefix>/snapshot`: the journal entry it stands at and its part count. */
export interface SnapshotHead {
  readonly seq: number;
  readonly parts: number;
}

/** Records cut into parts of at most PART_BYTES of JSON each (a larger record alone). */
export function partsOf(records: readonly JournalRecord[]): string[] {
  const parts: string[] = [];
  let part: string[] = [];
  let bytes = 0;
  for (const r of records) {
    const json = JSON.stringify(r);
    if (part.length > 0 && bytes + json.length + 1 > PART_BYTES) {
      parts.push(`[${part.join(',')}]`);
      part = [];
      bytes = 0;
    }
    part.push(json);
    bytes += json.length + 1;
  }
  if (part.length > 0 || parts.length === 0) parts.push(`[${part.join(',')}]`);
  return parts;
}

/**
 * Namespace snapshots in etcd, and the journal's compaction behind them (README, "Several
 * masters"). The leader writes a snapshot's parts under `<prefix>/snapshots/<seq>/`, each
 * put fenced on its term as a journal entry is; then one fenced transaction names the
 * snapshot whole (`<prefix>/snapshot`), deletes the journal entries it covers and every
 * other snapshot's parts. A leader deposed part way leaves parts nobody names, deleted by
 * the next compaction; readers only ever follow the head.
 */
export class EtcdSnapshots {
  constructor(
    private readonly client: Etcd3,
    private readonly prefix: string,
  ) {}

  async head(): Promise<SnapshotHead | null> {
    const raw = await this.client.get(snapshotKey(this.prefix)).string();
    return raw === null ? null : (JSON.parse(raw) as SnapshotHead);
  }

  /** The snapshot `head` names; null when it was replaced while read (its parts deleted): read the head again. */
  async read(head: SnapshotHead): Promise<NamespaceSnapshot | null> {
    const records: JournalRecord[] = [];
    const dir = snapshotDir(this.prefix, head.seq);
    const { end } = Range.prefix(dir);
    let next = snapshotPartKey(this.prefix, head.seq, 0);
    let parts = 0;
    for (;;) {
      const res = await this.client.getAll().inRange({ start: next, end }).sort('Key', 'Ascend').limit(READ_PAGE).exec();
      for (const kv of res.kvs) {
        if (kv.key.toString() !== snapshotPartKey(this.prefix, head.seq, parts)) return null;
        records.push(...(JSON.parse(kv.value.toString()) as JournalRecord[]));
        parts++;
      }
      if (!res.more || res.kvs.length === 0) break;
      next = snapshotPartKey(this.prefix, head.seq, parts);
    }
    return parts === head.parts ? { seq: head.seq, records } : null;
  }

  /** Writes `snapshot` and compacts the journal up to it; false when the fence refused (deposed). */
  async write(fence: Fence, snapshot: NamespaceSnapshot): Promise<boolean> {
    const parts = partsOf(snapshot.records);
    for (const [i, json] of parts.entries()) {
      const res = await this.fenced(fence).then(this.client.put(snapshotPartKey(this.prefix, snapshot.seq, i)).value(json)).commit();
      if (!res.succeeded) return false;
    }
    const head: SnapshotHead = { seq: snapshot.seq, parts: parts.length };
    const all = Range.prefix(snapshotPartsPrefix(this.prefix));
    const res = await this.fenced(fence)
      .then(
        this.client.put(snapshotKey(this.prefix)).value(JSON.stringify(head)),
        this.client.delete().range(new Range(journalPrefix(this.prefix), journalKey(this.prefix, snapshot.seq + 1))),
        this.client.delete().range(new Range(all.start, snapshotDir(this.prefix, snapshot.seq))),
        this.client.delete().range(new Range(snapshotPartKey(this.prefix, snapshot.seq, parts.length), all.end)),
      )
      .commit();
    return res.succeeded;
  }

  private fenced(fence: Fence) {
    return this.client.if(fence.key, 'Create', '==', fence.createRevision);
  }
}
