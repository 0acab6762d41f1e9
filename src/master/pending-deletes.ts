import { key } from './pending-copies.js';

/**
 * Deletes instructed and not yet seen done (HDFS's InvalidateBlocks): the same delete is not
 * queued again while the first is on its way. One that no report confirms within the
 * instruction timeout is given up, and may be instructed again.
 */
export class PendingDeletes {
  private readonly deletes = new Map<string, { address: string; since: number }>();

  constructor(private readonly timeoutMs: number) {}

  get size(): number {
    return this.deletes.size;
  }

  has(chunkId: string, address: string): boolean {
    return this.deletes.has(key(chunkId, address));
  }

  add(chunkId: string, address: string, now: number): void {
    this.deletes.set(key(chunkId, address), { address, since: now });
  }

  /** A report shows the server no longer holding the chunk. */
  done(chunkId: string, address: string): void {
    this.deletes.delete(key(chunkId, address));
  }

  expire(now: number): void {
    for (const [k, d] of this.deletes) if (now - d.since > this.timeoutMs) this.deletes.delete(k);
  }

  serverGone(address: string): void {
    for (const [k, d] of this.deletes) if (d.address === address) this.deletes.delete(k);
  }
}
