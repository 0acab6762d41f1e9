import type { Location } from './location.js';
import type { MemberRecord, Namespace } from './namespace/namespace.js';
import type { ServerNode } from './nodes.js';

export type { MemberRecord };

// A live server's last_seen is written again once it is this old, so a master that is
// killed (no sweep, no goodbye) still knows roughly when each member was last heard.
const LAST_SEEN_EVERY_MS = 60_000;

/**
 * The chunk servers the cluster has known (issue 25): kept in the namespace's store, so a
 * master that restarts still lists a server that has not come back, as dead, until an
 * operator forgets it (forget_server). Every change is recorded durably before it shows here.
 */
export class Members {
  private readonly known: Map<string, MemberRecord>;

  constructor(
    private readonly ns: Namespace,
    private readonly now: () => number = Date.now,
  ) {
    this.known = new Map(ns.members());
  }

  has(address: string): boolean {
    return this.known.has(address);
  }

  get(address: string): MemberRecord | undefined {
    return this.known.get(address);
  }

  /** In the order they first joined (the store's key order after a restart). */
  addresses(): string[] {
    return [...this.known.keys()];
  }

  /**
   * A registered server beat: recorded when it is new, moved, or last recorded long ago.
   * Called after every registration or heartbeat, so a record the store refused is tried again.
   */
  async saw(server: ServerNode): Promise<void> {
    const rec = this.known.get(server.address);
    const moved = rec !== undefined && (rec.location[0] !== server.location[0] || rec.location[1] !== server.location[1]);
    if (rec !== undefined && !moved && server.lastBeatMs - rec.last_seen < LAST_SEEN_EVERY_MS) return;
    await this.put(server.address, server.location, server.lastBeatMs, server.space);
  }

  /** The sweep found it silent: its last beat and space are kept for the dead server's row. */
  async lost(server: ServerNode): Promise<void> {
    if (this.known.has(server.address)) await this.put(server.address, server.location, server.lastBeatMs, server.space);
  }

  /** forget_server: it leaves the store, then the list. */
  async forget(address: string): Promise<void> {
    await this.ns.removeMember(address);
    this.known.delete(address);
  }

  private async put(address: string, location: Location, lastSeen: number, space: MemberRecord['space']): Promise<void> {
    const record: MemberRecord = { location: [location[0], location[1]], last_seen: lastSeen || this.now(), space: space ? { total: space.total, used: space.used } : null };
    await this.ns.putMember(address, record);
    this.known.set(address, record);
  }
}
