import type { Namespace } from './namespace/namespace.js';

/**
 * Servers being emptied (decommission_server) until repair finds nothing they hold still
 * needed. Kept in the namespace's store as well, so a restarted master carries on.
 */
export class Decommissions {
  private readonly addresses: Set<string>;

  constructor(private readonly ns: Namespace) {
    this.addresses = new Set(ns.decommissioning());
  }

  has(address: string): boolean {
    return this.addresses.has(address);
  }

  /** As recorded (placement leaves them out; the start-up log names them). */
  list(): string[] {
    return [...this.addresses];
  }

  /** Resolves once the decommission is recorded durably; one the store refuses changes nothing here either. */
  async start(address: string): Promise<void> {
    await this.ns.markDecommissioning(address);
    this.addresses.add(address);
  }

  async finish(address: string): Promise<void> {
    await this.ns.clearDecommissioning(address);
    this.addresses.delete(address);
  }
}
