import type { InFlight } from './replica-policy.js';

/** Repair copies since the master started: instructed, seen landed, and given up (refused, timed out, or a server gone). */
export interface CopyCounts {
  started: number;
  done: number;
  failed: number;
}

/**
 * Copies instructed and not yet seen landed (HDFS's PendingReconstructionBlocks): the policy
 * counts them as coming, so a chunk is not copied again while its copy travels. One that no
 * report shows within the instruction timeout is given up, and may be instructed again.
 */
export class PendingCopies {
  private readonly copies = new Map<string, InFlight & { since: number }>();
  private readonly counts: CopyCounts = { started: 0, done: 0, failed: 0 };

  constructor(private readonly timeoutMs: number) {}

  get size(): number {
    return this.copies.size;
  }

  totals(): CopyCounts {
    return { ...this.counts };
  }

  all(): InFlight[] {
    return [...this.copies.values()];
  }

  add(copy: InFlight, now: number): void {
    this.copies.set(key(copy.chunk_id, copy.target), { ...copy, since: now });
    this.counts.started++;
  }

  /** A report shows the target holding the chunk. */
  done(chunkId: string, target: string): void {
    if (this.copies.delete(key(chunkId, target))) this.counts.done++;
  }

  /** The source says the copy failed. */
  failed(chunkId: string, target: string): void {
    if (this.copies.delete(key(chunkId, target))) this.counts.failed++;
  }

  expire(now: number): void {
    for (const [k, c] of this.copies) if (now - c.since > this.timeoutMs) this.drop(k);
  }

  /** Copies from or to a server that is gone will not land. */
  serverGone(address: string): void {
    for (const [k, c] of this.copies) if (c.source === address || c.target === address) this.drop(k);
  }

  private drop(k: string): void {
    this.copies.delete(k);
    this.counts.failed++;
  }
}

/** One entry per chunk and server. */
export function key(chunkId: string, address: string): string {
  return `${chunkId}\0${address}`;
}
