import type { Namespace } from './namespace/namespace.js';

/** How far a decommission is: chunks whose copy there is still needed, and a guess at the seconds left (null: no progress seen yet). */
export interface DecommissionProgress {
  readonly chunks_left: number;
  readonly eta_s: number | null;
}

/**
 * Servers being emptied (decommission_server) until repair finds nothing they hold still
 * needed. Kept in the namespace's store only, read from it each time: a restarted master
 * carries on, and over etcd, where the store is journaled, so does a new leader (what a
 * standby tailed is what it reads once elected).
 */
export class Decommissions {
  /** Per address, the first count of chunks left this master saw, and when: the rate since then gives the ETA. */
  private readonly firstSeen = new Map<string, { at: number; left: number }>();

  constructor(private readonly ns: Namespace) {}

  has(address: string): boolean {
    return this.ns.decommissioning().includes(address);
  }

  /** As recorded (placement leaves them out; the start-up log names them). */
  list(): string[] {
    return this.ns.decommissioning();
  }

  /** Resolves once the decommission is recorded durably; one the store refuses changes nothing here either. */
  async start(address: string): Promise<void> {
    await this.ns.markDecommissioning(address);
  }

  /**
   * The ETA is the chunks left over the rate since the first count this master took (at the
   * start, or after a restart at the first look): copies go at the pace repair allows, so
   * the average is a better guess than the last step. A count that grew starts again.
   */
  progress(address: string, left: number, now: number): DecommissionProgress {
    const first = this.firstSeen.get(address);
    if (!first || left > first.left) {
      this.firstSeen.set(address, { at: now, left });
      return { chunks_left: left, eta_s: left === 0 ? 0 : null };
    }
    if (left === 0) return { chunks_left: 0, eta_s: 0 };
    const perS = (first.left - left) / Math.max(0.001, (now - first.at) / 1000);
    return { chunks_left: left, eta_s: perS > 0 ? Math.ceil(left / perS) : null };
  }

  async finish(address: string): Promise<void> {
    this.firstSeen.delete(address);
    await this.ns.clearDecommissioning(address);
  }
}
