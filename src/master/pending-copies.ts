import type { InFlight } from './replica-policy.js';

/**
 * Copies instructed and not yet seen landed (HDFS's PendingReconstructionBlocks): the policy
 * counts them as coming, so a chunk is not copied again while its copy travels. One that no
 * report shows within the instruction timeout is given up, and may be instructed again.
 */
export class PendingCopies {
  private readonly copies = new Map<string, InFlight & { since: number }>();

  constructor(private readonly timeoutMs: number) {}

  get size(): number {
    return this.copies.size;
  }

  all(): InFlight[] {
    return [...this.copies.values()];
  }

  add(copy: InFlight, now: number): void {
    this.copies.set(key(copy.chunk_id, copy.target), { ...copy, since: now });
  }

  /** A report shows the target holding the chunk, or the source says the copy failed. */
  done(chunkId: string, target: string): void {
    this.copies.delete(key(chunkId, target));
  }

  expire(now: number): void {
    for (const [k, c] of this.copies) if (now - c.since > this.timeoutMs) this.copies.delete(k);
  }

  /** Copies from or to a server that is gone will not land. */
  serverGone(address: string): void {
    for (const [k, c] of this.copies) if (c.source === address || c.target === address) this.copies.delete(k);
  }
}

/** One entry per chunk and server. */
export function key(chunkId: string, address: string): string {
  return `${chunkId}\0${address}`;
}
