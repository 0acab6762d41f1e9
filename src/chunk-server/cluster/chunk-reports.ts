import type { ChunkChange } from '../../wire/chunk-report.js';
import type { SummarySource } from './summary-source.js';

/** Fields a heartbeat carries for the master's chunk map, and what to do once it was (or was not) taken. */
export interface BeatReport {
  readonly fields: Record<string, unknown>;
  settle(taken: boolean): void;
}

/**
 * What this server tells the master about its chunks (PROTOCOL.md, "Chunk reports"): the
 * whole list at registration, when the master asks (`report_wanted`) and every
 * `chunk_report_interval_s`; in between, the changes since the last heartbeat taken. A
 * heartbeat that fails gives its changes back, or makes the next report a full one.
 */
export class ChunkReporter {
  private changes = new Map<string, ChunkChange>();
  private fullDue = true;
  private lastFullMs = 0;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly source: SummarySource,
    private readonly intervalMs: number,
    /** Called on every change: the master client sends the next heartbeat early. */
    onChange: () => void,
    private readonly now: () => number = Date.now,
  ) {
    this.unsubscribe = source.onChange((c) => {
      this.changes.set(c.chunk_id, c);
      onChange();
    });
  }

  /** The master forgot us (it restarted, or we were registered again): the next report is whole. */
  wantFull(): void {
    this.fullDue = true;
  }

  get pending(): number {
    return this.changes.size;
  }

  next(extra: { failed_copies?: unknown[] } = {}): BeatReport {
    const full = this.fullDue || this.now() - this.lastFullMs >= this.intervalMs;
    const fields: Record<string, unknown> = {};
    if (extra.failed_copies && extra.failed_copies.length > 0) fields.failed_copies = extra.failed_copies;
    if (full) {
      const taken = this.changes;
      this.changes = new Map();
      fields.chunk_report = this.source.listChunks();
      return {
        fields,
        settle: (ok) => {
          if (ok) {
            this.fullDue = false;
            this.lastFullMs = this.now();
          } else {
            this.fullDue = true;
            this.restore(taken);
          }
        },
      };
    }
    const taken = this.changes;
    this.changes = new Map();
    if (taken.size > 0) fields.chunk_changes = [...taken.values()];
    return { fields, settle: (ok) => (ok ? undefined : this.restore(taken)) };
  }

  close(): void {
    this.unsubscribe();
  }

  /** Changes of a beat that failed come back, unless a newer change of the same chunk came since. */
  private restore(taken: Map<string, ChunkChange>): void {
    for (const [id, c] of taken) if (!this.changes.has(id)) this.changes.set(id, c);
  }
}
