import { Range, type Etcd3 } from 'etcd3';
import type { Logger } from 'pino';
import { EtcdUnavailableError, NotLeaderError } from '../../errors.js';
import type { JournalRecord, JournalSink } from '../namespace/journal-record.js';
import type { NamespaceSnapshot } from '../namespace/snapshot.js';
import { journalKey, journalPrefix } from './keys.js';
import type { Leadership } from './leadership.js';
import type { EtcdSnapshots } from './snapshots.js';

// One etcd request stays well under etcd's 1.5 MiB limit: a batch closes past this many bytes.
const MAX_BATCH_BYTES = 1024 * 1024;
// Entries read per range request while catching up.
const CATCH_UP_PAGE = 256;

interface Waiter {
  json: string;
  resolve(seq: number): void;
  reject(err: Error): void;
}

/**
 * The namespace journal in etcd (README, "Several masters"): entry `seq` is the key
 * `<prefix>/journal/<seq>`, its value a JSON array of JournalRecord. The leader writes the
 * next entry in a transaction conditioned on its leader key's create revision (its term)
 * and on the entry not existing, so a deposed leader's write is refused. Changes that
 * arrive while a transaction is in flight wait and share the next one: one etcd round trip
 * per batch, not per change. Any failure (refused, or an outcome unknown because etcd did
 * not answer) steps the master down: a new term catches up with whatever etcd holds.
 */
export class EtcdJournal implements JournalSink {
  private nextSeq = 1;
  private queue: Waiter[] = [];
  private flushing: Promise<void> | null = null;
  /** Told the time of every transaction, in s, and how it ended (metrics). */
  observe: (seconds: number, outcome: 'committed' | 'refused' | 'failed') => void = () => undefined;
  /** Told the number and size of every entry this master committed (compaction counts them). */
  committed: (seq: number, bytes: number) => void = () => undefined;

  constructor(
    private readonly client: Etcd3,
    private readonly prefix: string,
    private readonly leadership: Leadership,
    private readonly snapshots: EtcdSnapshots,
    private readonly log: Logger,
  ) {}

  append(records: readonly JournalRecord[]): Promise<number> {
    if (this.leadership.fence() === null) return Promise.reject(new NotLeaderError(this.leadership.leader()));
    return new Promise((resolve, reject) => {
      this.queue.push({ json: JSON.stringify(records), resolve, reject });
      this.flushing ??= this.flush().finally(() => {
        this.flushing = null;
      });
    });
  }

  /** Resolves when no write is in flight (a master that stepped down waits for it before tailing). */
  async idle(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  /**
   * Applies, in order, every entry after `applied`; returns the last one's number. The
   * next entry this master writes follows it. When the next entry is gone (compacted into
   * a snapshot, README "Several masters"), the snapshot is loaded first and tailing goes
   * on after it: a master behind the compaction misses nothing.
   */
  async catchUp(applied: number, apply: (seq: number, records: JournalRecord[]) => void, load: (snapshot: NamespaceSnapshot) => void): Promise<number> {
    let last = applied;
    const { end } = Range.prefix(journalPrefix(this.prefix));
    for (;;) {
      const res = await this.client.getAll().inRange({ start: journalKey(this.prefix, last + 1), end }).sort('Key', 'Ascend').limit(CATCH_UP_PAGE).exec();
      let gap = false;
      for (const kv of res.kvs) {
        const seq = Number(kv.key.toString().slice(journalPrefix(this.prefix).length));
        if (seq !== last + 1) {
          gap = true;
          break;
        }
        apply(seq, JSON.parse(kv.value.toString()) as JournalRecord[]);
        last = seq;
      }
      if (gap || res.kvs.length === 0) {
        const snapshot = await this.snapshotAfter(last);
        if (snapshot !== null) {
          load(snapshot);
          last = snapshot.seq;
          continue;
        }
        if (gap) throw new Error(`journal entry ${last + 1} is missing and no snapshot covers it`);
      }
      if (!res.more) break;
    }
    this.nextSeq = last + 1;
    return last;
  }

  /** The snapshot in etcd when it stands past `applied`; null when none does. */
  private async snapshotAfter(applied: number): Promise<NamespaceSnapshot | null> {
    const head = await this.snapshots.head();
    if (head === null || head.seq <= applied) return null;
    const snapshot = await this.snapshots.read(head);
    // Replaced by a newer one while read: the next tick starts again from the new head.
    if (snapshot === null) throw new Error('the snapshot was replaced while it was read');
    return snapshot;
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.take();
      const fence = this.leadership.fence();
      if (fence === null) {
        this.fail(batch, new NotLeaderError(this.leadership.leader()));
        continue;
      }
      const seq = this.nextSeq;
      const key = journalKey(this.prefix, seq);
      const value = `[${batch.map((w) => w.json.slice(1, -1)).filter((s) => s.length > 0).join(',')}]`;
      let succeeded: boolean;
      const startedAt = performance.now();
      const took = (): number => (performance.now() - startedAt) / 1000;
      try {
        const res = await this.client
          .if(fence.key, 'Create', '==', fence.createRevision)
          .and(key, 'Create', '==', 0)
          .then(this.client.put(key).value(value))
          .commit();
        succeeded = res.succeeded;
        this.observe(took(), succeeded ? 'committed' : 'refused');
      } catch (err) {
        this.observe(took(), 'failed');
        this.log.error({ err: (err as Error).message, seq }, 'journal write to etcd failed; outcome unknown');
        this.leadership.stepDown('journal write failed');
        this.fail(batch, new EtcdUnavailableError());
        continue;
      }
      if (!succeeded) {
        this.leadership.stepDown('journal write refused: another master leads');
        this.fail(batch, new NotLeaderError(this.leadership.leader()));
        continue;
      }
      this.nextSeq = seq + 1;
      for (const w of batch) w.resolve(seq);
      this.committed(seq, value.length);
    }
  }

  private take(): Waiter[] {
    let bytes = 0;
    let n = 0;
    while (n < this.queue.length && (n === 0 || bytes + this.queue[n]!.json.length <= MAX_BATCH_BYTES)) bytes += this.queue[n++]!.json.length;
    return this.queue.splice(0, n);
  }

  private fail(batch: Waiter[], err: Error): void {
    for (const w of batch) w.reject(err);
    // Later changes may build on the refused ones (the namespace reads pending values): they fail too.
    for (const w of this.queue.splice(0)) w.reject(err);
  }
}
