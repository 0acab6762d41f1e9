import type { Logger } from 'pino';
import type { Namespace } from '../namespace/namespace.js';
import type { Leadership } from './leadership.js';
import type { EtcdSnapshots } from './snapshots.js';

export interface CompactionOptions {
  /** Entries, and bytes of them, after which a snapshot is due ([master] etcd_snapshot_entries, etcd_snapshot_mb). */
  readonly everyEntries: number;
  readonly everyBytes: number;
  readonly log: Logger;
}

/**
 * When the leader snapshots the namespace into etcd and compacts the journal behind it
 * (README, "Several masters"). It counts the entries it commits since the snapshot etcd
 * holds; past either bound it takes one snapshot at a time, from its lmdb as of the last
 * entry applied, in the background: changes go on being journaled meanwhile, after it.
 */
export class Compaction {
  /** The snapshot etcd holds, as last read or written; null: not known since taking office. */
  private covered: number | null = null;
  private bytes = 0;
  private running: Promise<void> | null = null;

  constructor(
    private readonly snapshots: EtcdSnapshots,
    private readonly ns: Namespace,
    private readonly leadership: Leadership,
    private readonly opts: CompactionOptions,
  ) {
    leadership.on('elected', () => {
      this.covered = null;
      this.bytes = 0;
    });
  }

  /** The leader committed entry `seq` of `bytes`. */
  committed(seq: number, bytes: number): void {
    this.bytes += bytes;
    if (this.running || !this.due(seq)) return;
    this.running = this.run()
      .catch((err: unknown) => this.opts.log.warn({ err: (err as Error).message }, 'snapshot to etcd failed; the journal is compacted at the next one'))
      .finally(() => {
        this.running = null;
      });
  }

  /** Resolves when no snapshot is being written (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private due(seq: number): boolean {
    return this.covered === null || seq - this.covered >= this.opts.everyEntries || this.bytes >= this.opts.everyBytes;
  }

  private async run(): Promise<void> {
    if (this.covered === null) {
      this.covered = (await this.snapshots.head())?.seq ?? 0;
      if (this.ns.journalSeq() - this.covered < this.opts.everyEntries && this.bytes < this.opts.everyBytes) return;
    }
    const fence = this.leadership.fence();
    if (fence === null) return;
    await this.ns.settled();
    const snapshot = this.ns.snapshot();
    if (snapshot.seq <= this.covered) return;
    const bytesBefore = this.bytes;
    const started = performance.now();
    if (!(await this.snapshots.write(fence, snapshot))) return;
    this.covered = snapshot.seq;
    this.bytes -= bytesBefore;
    this.opts.log.info({ seq: snapshot.seq, records: snapshot.records.length, ms: Math.round(performance.now() - started) }, 'namespace snapshot written to etcd; journal compacted up to it');
  }
}
