import type { Logger } from 'pino';
import { PeerError } from '../../net/peer-errors.js';
import type { Reply, Rpc } from '../../net/rpc.js';

export interface MasterClientOptions {
  /** The master's `host:port`. */
  readonly master: string;
  /** Further masters of a cluster over etcd ([chunk_server] other_masters), tried in turn when the current one does not answer. */
  readonly otherMasters?: readonly string[];
  /** This server's advertised `host:port`. */
  readonly address: string;
  readonly location: readonly [number, number];
  readonly heartbeatMs: number;
  /** Time allowed for one call to the master, in ms. */
  readonly timeoutMs: number;
  /** Bytes this server may hold and holds now, from the in-memory accounting. */
  readonly space: () => { total: number; used: number };
  /**
   * Chunks found corrupt and not yet reported; sent with every heartbeat until a master
   * answers one. The reference master answers no heartbeat, so with it they are sent with
   * every heartbeat for good (it ignores the field; the list is bounded by what is quarantined).
   */
  readonly corruptChunks: () => string[];
  /** Called once the master's reply to a heartbeat that listed these ids came back. */
  readonly corruptReported: (chunkIds: string[]) => Promise<void>;
  /** Runs after every heartbeat the master took (the member list is refreshed there). */
  readonly afterBeat?: () => Promise<void>;
  readonly rpc: Rpc;
  readonly log: Logger;
  /**
   * Extra heartbeat fields (chunk reports, cluster/chunk-reports.ts); `settle` hears whether
   * the master took the heartbeat, with its reply. `registered`: this beat follows a registration.
   */
  readonly beatExtras?: (registered: boolean) => { fields: Reply; settle(taken: boolean, reply: Reply | null): void };
}

/** update_file_metadata (shared/reference-protocol.md), plus `chunk_index`, which the reference master ignores. */
export interface ChunkReport {
  file_path: string;
  chunk_id: string;
  chunk_locations: string[];
  chunk_size: number;
  pending_replication: boolean;
  /** Lets our master keep two equal chunks of one file (same sha256 id) apart; undefined is not sent. */
  chunk_index: number | undefined;
}

// First retry after a failed beat, in ms; doubles per failure up to the heartbeat interval,
// so a returning master is found within two intervals.
const FIRST_RETRY_MS = 100;
// While masters answer not_leader, an election is under way and a leader comes within one
// lease TTL: retries stay this close, so the server reports to a new leader within about
// this long of its election instead of backing off toward a whole heartbeat interval (the
// failover bench, docs/performance.md: the first write after a kill -9 waits for these reports).
const ELECTION_RETRY_MS = 500;
// A nudge sends the next heartbeat this soon, so changes made together share one.
const NUDGE_MS = 20;

/** Capped exponential backoff with jitter: a random delay in [cap/2, cap]. */
export function backoffMs(failures: number, capMs: number): number {
  const cap = Math.min(capMs, FIRST_RETRY_MS * 2 ** Math.min(failures - 1, 30));
  return cap / 2 + (Math.random() * cap) / 2;
}

/**
 * The chunk server's side of the master protocol: registration, heartbeats, and the calls
 * a primary makes. The master being away never stops the server; this keeps retrying,
 * logs each change between reachable and unreachable once, and registers again when the
 * master comes back (a restarted master has forgotten every server).
 */
export class MasterClient {
  private registered = false;
  private everRegistered = false;
  private reachable: boolean | null = null;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  private wake: (() => void) | null = null;
  private loopDone: Promise<void> = Promise.resolve();
  private nudgeTimer: NodeJS.Timeout | null = null;
  private beatsStarted = 0;
  /** A master answered not_leader since the last heartbeat taken: retry at the election's pace. */
  private standbyAnswered = false;
  private beatsDone = 0;
  private readonly flushes: { after: number; done: () => void }[] = [];
  /** The master talked to: the configured one, another of the list, or the leader a standby named. */
  private master: string;

  constructor(private readonly opts: MasterClientOptions) {
    this.master = opts.master;
  }

  get address(): string {
    return this.master;
  }

  /** Whether the last exchange with the master succeeded (metrics: master link up). */
  get linkUp(): boolean {
    return this.reachable === true;
  }

  start(): void {
    this.loopDone = this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.nudgeTimer) clearTimeout(this.nudgeTimer);
    this.wake?.();
    await this.loopDone;
    for (const f of this.flushes.splice(0)) f.done();
  }

  /** Something to report: beat soon rather than at the next interval (only while the master answers). */
  nudge(): void {
    if (this.nudgeTimer || this.reachable !== true || this.stopped) return;
    this.nudgeTimer = setTimeout(() => {
      this.nudgeTimer = null;
      this.wake?.();
    }, NUDGE_MS);
  }

  /**
   * Sends a heartbeat now and resolves once one that started after this call is done (or
   * after the master timeout), so what changed before it reaches the master first. Resolves
   * at once while the master is unreachable.
   */
  flush(): Promise<void> {
    if (this.reachable !== true || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, this.opts.timeoutMs);
      this.flushes.push({ after: this.beatsStarted, done: () => (clearTimeout(timer), resolve()) });
      this.wake?.();
    });
  }

  /** get_replica_locations: the master's pick of peers for a new chunk's copies. */
  async replicaLocations(clientId: string | null): Promise<string[]> {
    const reply = await this.call({ command: 'get_replica_locations', excluding: this.opts.address, client_id: clientId });
    return this.addresses(reply.locations);
  }

  /** get_chunk_servers without a client: every live chunk server, the cluster's members (those being decommissioned too: they still hold and pass on chunks). */
  async chunkServers(): Promise<string[]> {
    const reply = await this.call({ command: 'get_chunk_servers' });
    return [...this.addresses(reply.servers), ...(Array.isArray(reply.decommissioning) ? this.addresses(reply.decommissioning) : [])];
  }

  /** get_chunk_locations: the servers the master knows to hold a chunk. */
  async chunkLocations(filePath: string, chunkId: string): Promise<string[]> {
    const reply = await this.call({ command: 'get_chunk_locations', file_path: filePath, chunk_id: chunkId });
    return this.addresses(reply.locations);
  }

  /** get_lease, answered as it came (an error reply names the primary that holds it). */
  async lease(filePath: string, chunkId: string): Promise<Reply> {
    return this.opts.rpc.request(this.opts.master, { command: 'get_lease', address: this.opts.address, file_path: filePath, chunk_id: chunkId }, this.opts.timeoutMs);
  }

  /** update_file_metadata. The reference master sends no reply; ours may, and an error one is a failure. */
  async updateFileMetadata(report: ChunkReport): Promise<void> {
    await this.tell({ command: 'update_file_metadata', ...report });
  }

  /** update_chunk_offset, with our extras (the new version, the holders that applied the append). */
  async updateChunkOffset(body: { file_path: string; chunk_id: string; offset: number; chunk_locations: string[]; version?: number }): Promise<void> {
    await this.tell({ command: 'update_chunk_offset', ...body });
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      const started = ++this.beatsStarted;
      const ok = await this.beat();
      this.beatsDone = started;
      for (let i = this.flushes.length - 1; i >= 0; i--) {
        if (this.flushes[i]!.after < this.beatsDone) this.flushes.splice(i, 1)[0]!.done();
      }
      failures = ok ? 0 : failures + 1;
      if (this.stopped) break;
      if (ok) this.standbyAnswered = false;
      await this.sleep(ok ? this.opts.heartbeatMs : backoffMs(failures, this.standbyAnswered ? Math.min(ELECTION_RETRY_MS, this.opts.heartbeatMs) : this.opts.heartbeatMs));
    }
  }

  /** One round: register if needed, then a heartbeat. True when the master took both. */
  private async beat(): Promise<boolean> {
    const { address, location } = this.opts;
    let extra: ReturnType<NonNullable<MasterClientOptions['beatExtras']>> | undefined;
    try {
      const registering = !this.registered;
      if (registering) {
        await this.tell({ command: 'register_chunk_server', address, location: [...location] });
        this.registered = true;
      }
      const { total, used } = this.opts.space();
      const corrupt = this.opts.corruptChunks();
      const beat: Reply = { command: 'heartbeat', address, location: [...location], space_info: { total, used } };
      if (corrupt.length > 0) beat.corrupt_chunks = corrupt;
      extra = this.opts.beatExtras?.(registering);
      const reply = await this.tell({ ...beat, ...extra?.fields });
      const settling = extra;
      extra = undefined;
      settling?.settle(true, reply);
      // Written is not read: only a master that answered has taken the report.
      if (corrupt.length > 0 && reply !== null) await this.opts.corruptReported(corrupt);
      // Back only once a whole round was taken: a master that takes the registration and
      // refuses or drops the beat is still the same outage, not a flap logged every round.
      if (registering) {
        this.opts.log.info({ master: this.master, address, location }, this.everRegistered ? 'master is back; registered again' : 'registered with master');
        this.everRegistered = true;
      }
      this.reachable = true;
      await this.opts.afterBeat?.();
      return true;
    } catch (err) {
      extra?.settle(false, null);
      // Whatever the master knew of us may be gone by the time it answers again.
      this.registered = false;
      if (this.reachable !== false) {
        this.opts.log.warn({ master: this.master, err: (err as Error).message }, 'master unreachable; serving without it and retrying');
      }
      this.reachable = false;
      return false;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(resolve, ms);
    });
  }

  private async call(body: Reply): Promise<Reply> {
    const reply = await this.reach(() => this.opts.rpc.request(this.master, body, this.opts.timeoutMs));
    if (reply.status !== 'ok') throw this.refused(body, reply);
    return reply;
  }

  /** The master's ok reply, or null when it sent none (the reference never does). */
  private async tell(body: Reply): Promise<Reply | null> {
    const reply = await this.reach(() => this.opts.rpc.notify(this.master, body, this.opts.timeoutMs));
    if (reply !== null && reply.status !== 'ok') throw this.refused(body, reply);
    return reply;
  }

  /** A master that does not answer: the next call goes to the next one listed (a cluster over etcd). */
  private async reach<R>(exchange: () => Promise<R>): Promise<R> {
    const asked = this.master;
    try {
      return await exchange();
    } catch (err) {
      // A set: a master named twice (in --master and in other_masters) would make the round trip skip the rest.
      const all = [...new Set([this.opts.master, ...(this.opts.otherMasters ?? [])])];
      if (all.length > 1 && this.master === asked) this.master = all[(all.indexOf(asked) + 1) % all.length]!;
      throw err;
    }
  }

  /**
   * A refusal to fail the call with. A standby's not_leader names the leader: the next call
   * goes there, and the round that failed registers with it (protocol/PROTOCOL.md, "Several masters").
   */
  private refused(body: Reply, reply: Reply): PeerError {
    const err = new PeerError(this.master, `${String(body.command)} refused: ${String(reply.message)}`);
    if (reply.message === 'not_leader') this.standbyAnswered = true;
    if (reply.message === 'not_leader' && typeof reply.leader === 'string' && reply.leader !== this.master) {
      this.opts.log.info({ standby: this.master, leader: reply.leader }, 'master is a standby; following it to the leader');
      this.master = reply.leader;
    }
    return err;
  }

  private addresses(v: unknown): string[] {
    if (!Array.isArray(v) || !v.every((a) => typeof a === 'string')) throw new PeerError(this.master, 'locations is not a list of addresses');
    return v as string[];
  }
}
