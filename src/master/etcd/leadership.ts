import { EventEmitter } from 'node:events';
import type { Etcd3, Lease } from 'etcd3';
import type { Logger } from 'pino';
import { leaderKey } from './keys.js';

export interface LeadershipOptions {
  prefix: string;
  ttlS: number;
  log: Logger;
  /** Run once elected, before serving (a new leader catches up with the journal); a throw steps down. */
  onElected(): Promise<void>;
  /** Run on every tick while standing by (tailing the journal). */
  onStandby(): Promise<void>;
}

/** What fences a leader's writes: its leader key's create revision (protocol/PROTOCOL.md, "Several masters"). */
export interface Fence {
  key: string;
  createRevision: string;
}

/**
 * Leadership by an etcd lease (README, "Several masters"). Each tick (a third of the TTL)
 * a master without the leader key tries to create it bound to its lease
 * (`if create_revision == 0`); whoever creates it leads, until its lease expires or it
 * sees the key is no longer the one it created. The key's create revision is the term:
 * the journal conditions every write on it, so a deposed leader cannot commit.
 *
 * A leader also judges its own lease by the clock: it counts as leader only while its last
 * confirmed keepalive was sent less than a TTL ago, since etcd expires the lease no sooner
 * than a TTL after it received that keepalive. A leader paused past its lease (SIGSTOP)
 * therefore answers not_leader from its first instant back, before any timer runs.
 *
 * Emits 'elected' and 'stepped-down' (with a reason).
 */
export class Leadership extends EventEmitter {
  private lease: Lease | null = null;
  private leaseId: string | null = null;
  private term: Fence | null = null;
  private serving = false;
  private confirmedAt = 0;
  private knownLeader: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> = Promise.resolve();
  private stopped = false;
  private leaderSince: number | null = null;

  constructor(
    private readonly client: Etcd3,
    private readonly opts: LeadershipOptions,
  ) {
    super();
  }

  private address = '';

  /** Campaigns as `address` ("host:port", the leader key's value while it leads). */
  start(address: string): void {
    this.address = address;
    this.schedule(0);
  }

  /** Leader, caught up, and its lease not possibly expired. */
  isLeader(): boolean {
    if (!this.serving) return false;
    if (Date.now() - this.confirmedAt < this.opts.ttlS * 1000) return true;
    this.stepDown('lease not renewed within its TTL');
    return false;
  }

  /** The leader this master knows of, "host:port", or null. */
  leader(): string | null {
    return this.serving ? this.address : this.knownLeader;
  }

  /** ms since epoch when this master started serving as leader; null while standing by. */
  since(): number | null {
    return this.serving ? this.leaderSince : null;
  }

  /** The fence of the current term; null when not leading. */
  fence(): Fence | null {
    return this.term;
  }

  stepDown(reason: string): void {
    if (this.term === null) return;
    const wasServing = this.serving;
    this.term = null;
    this.serving = false;
    this.leaderSince = null;
    if (this.knownLeader === this.address) this.knownLeader = null;
    this.dropLease();
    this.opts.log.warn({ reason }, 'stepped down: no longer the leader');
    if (wasServing) this.emit('stepped-down', reason);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.ticking;
    const lease = this.lease;
    this.term = null;
    this.serving = false;
    this.lease = null;
    // Revoked, so a standby takes over at once instead of after the TTL.
    if (lease) await lease.revoke().catch(() => undefined);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick()
        .catch((err: unknown) => {
          this.opts.log.warn({ err: (err as Error).message }, 'etcd leadership tick failed');
          if (this.term !== null) this.stepDown('etcd unreachable');
        })
        .finally(() => this.schedule((this.opts.ttlS * 1000) / 3));
    }, ms);
  }

  private async tick(): Promise<void> {
    if (this.term !== null) {
      const kv = (await this.client.get(leaderKey(this.opts.prefix)).exec()).kvs[0];
      if (kv?.create_revision !== this.term.createRevision) this.stepDown('the leader key is no longer ours');
      return;
    }
    const leaseId = await this.ownLease();
    const key = leaderKey(this.opts.prefix);
    const res = await this.client.if(key, 'Create', '==', 0).then(this.client.put(key).value(this.address).lease(leaseId)).else(this.client.get(key)).commit();
    if (!res.succeeded) {
      const kv = res.responses[0]?.response_range?.kvs?.[0];
      this.knownLeader = kv ? kv.value.toString() : null;
      await this.opts.onStandby();
      return;
    }
    this.term = { key, createRevision: String(res.header.revision) };
    this.knownLeader = this.address;
    this.opts.log.info({ term: this.term.createRevision }, 'elected leader; catching up with the journal');
    try {
      await this.opts.onElected();
    } catch (err) {
      this.opts.log.error({ err }, 'could not catch up after the election');
      this.stepDown('catch-up failed');
      return;
    }
    if (this.term === null) return;
    this.serving = true;
    this.leaderSince = Date.now();
    this.opts.log.info({ term: this.term.createRevision }, 'leading');
    this.emit('elected');
  }

  private async ownLease(): Promise<string> {
    if (this.lease && this.leaseId !== null) return this.leaseId;
    const lease = this.client.lease(this.opts.ttlS, { autoKeepAlive: true });
    this.lease = lease;
    let firedAt = 0;
    lease.on('keepaliveFired', () => {
      firedAt = Date.now();
    });
    lease.on('keepaliveSucceeded', () => {
      if (this.lease === lease) this.confirmedAt = firedAt;
    });
    lease.on('lost', (err) => {
      if (this.lease !== lease) return;
      this.lease = null;
      this.leaseId = null;
      this.stepDown(`lease lost: ${err.message}`);
    });
    const sentAt = Date.now();
    this.leaseId = await lease.grant();
    this.confirmedAt = sentAt;
    return this.leaseId;
  }

  private dropLease(): void {
    const lease = this.lease;
    this.lease = null;
    this.leaseId = null;
    // Revoked so that a key still bound to it goes now; a fresh lease is granted at the next campaign.
    if (lease) lease.revoke().catch(() => undefined);
  }
}
