// The cluster side of record_append (PROTOCOL.md, "Leases and record_append"): the leases
// this server holds as primary (asked of the master, renewed while appends come), the order
// in which a holder applies forwarded records (offset order, whatever order they arrive in),
// the newest lease epoch each holder has seen (a record from an older primary is refused),
// and the primary's reports of a chunk's new end to the master, coalesced per chunk.
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { BadOffsetError, MSG, NoLeaseError, NotPrimaryError } from '../../errors.js';
import { replyCode } from '../../net/peer-errors.js';
import type { Reply, Rpc } from '../../net/rpc.js';
import type { MasterClient } from './master-client.js';

/** A lease as the primary counts it: ends before the master's end (see LEASE_SAFETY). */
export interface HeldLease {
  readonly epoch: number;
  /** The other current holders, to forward records to. */
  readonly holders: readonly string[];
  /** Monotonic ms. */
  readonly end: number;
}

// The primary's lease ends this much earlier than the master's: the master starts counting
// after the request left here, and clocks run at slightly different rates.
const LEASE_SAFETY_FRACTION = 0.05;
const LEASE_SAFETY_MS = 100;

export interface RecordAppendsOptions {
  readonly address: string;
  readonly master: MasterClient | null;
  readonly rpc: Rpc;
  readonly dataTimeoutMs: number;
  readonly log: Logger;
}

interface OffsetReport {
  size: number;
  version: number;
  holders: string[];
  waiters: (() => void)[];
}

export class RecordAppends {
  private readonly held = new Map<string, HeldLease>();
  private readonly asking = new Map<string, Promise<HeldLease>>();
  private readonly epochs = new Map<string, number>();
  private readonly turns = new Map<string, Set<() => void>>();
  private readonly reports = new Map<string, { next: OffsetReport | null; sending: boolean }>();

  constructor(private readonly opts: RecordAppendsOptions) {}

  /**
   * The lease this server holds on the chunk, asked of the master when it has none in force;
   * renewed in the background once half of it is gone (appends keep coming). Throws
   * not_primary (another holds it) or no_lease.
   */
  async lease(filePath: string, chunkId: string): Promise<HeldLease> {
    const now = performance.now();
    const mine = this.held.get(chunkId);
    if (mine && mine.end > now && !this.stale.has(chunkId)) {
      const leaseMs = mine.end - now;
      if (leaseMs < (mine.end - (this.grantedAt.get(chunkId) ?? now)) / 2) void this.ask(filePath, chunkId).catch(() => undefined);
      return mine;
    }
    return this.ask(filePath, chunkId);
  }

  /** Still primary by its own count (checked again before a record is acknowledged). */
  holds(chunkId: string, epoch: number): boolean {
    const mine = this.held.get(chunkId);
    return mine !== undefined && mine.epoch === epoch && mine.end > performance.now();
  }

  /**
   * The lease's holders are out of date (one failed and was reported stale): the next record
   * asks the master again. Records already on their way keep the lease they hold.
   */
  refresh(chunkId: string): void {
    this.stale.add(chunkId);
  }

  private readonly grantedAt = new Map<string, number>();
  private readonly stale = new Set<string>();

  private ask(filePath: string, chunkId: string): Promise<HeldLease> {
    const pending = this.asking.get(chunkId);
    if (pending) return pending;
    const asked = this.askMaster(filePath, chunkId).finally(() => this.asking.delete(chunkId));
    this.asking.set(chunkId, asked);
    return asked;
  }

  private async askMaster(filePath: string, chunkId: string): Promise<HeldLease> {
    const { master } = this.opts;
    if (!master) throw new NoLeaseError('no master');
    const sent = performance.now();
    const reply = await master.lease(filePath, chunkId);
    if (reply.status !== 'ok') {
      this.held.delete(chunkId);
      const code = replyCode(reply.message)?.code;
      if (code === MSG.notPrimary) throw new NotPrimaryError(typeof reply.primary === 'string' ? reply.primary : null, typeof reply.lease_end === 'number' ? reply.lease_end : null);
      throw new NoLeaseError(replyCode(reply.message)?.detail ?? String(reply.message));
    }
    const leaseMs = Number(reply.lease_ms);
    const epoch = Number(reply.epoch);
    const holders = Array.isArray(reply.holders) ? reply.holders.filter((a): a is string => typeof a === 'string' && a !== this.opts.address) : [];
    const lease: HeldLease = { epoch, holders, end: sent + leaseMs * (1 - LEASE_SAFETY_FRACTION) - LEASE_SAFETY_MS };
    this.saw(chunkId, epoch);
    this.held.set(chunkId, lease);
    this.grantedAt.set(chunkId, sent);
    this.stale.delete(chunkId);
    return lease;
  }

  /**
   * A record forwarded under `epoch`: refused (not_primary) when a newer primary was seen,
   * for this chunk, here, or this server holds the lease itself under a newer epoch.
   */
  acceptEpoch(chunkId: string, epoch: number): void {
    const newest = this.epochs.get(chunkId) ?? 0;
    if (epoch < newest) throw new NotPrimaryError(null);
    this.saw(chunkId, epoch);
  }

  private saw(chunkId: string, epoch: number): void {
    if (epoch > (this.epochs.get(chunkId) ?? 0)) this.epochs.set(chunkId, epoch);
    const mine = this.held.get(chunkId);
    // Another server was granted a newer lease: ours, if any, ended (as the master measured).
    if (mine && mine.epoch < epoch) this.held.delete(chunkId);
  }

  /**
   * Waits until the copy ends at `offset` (records forwarded together may arrive out of
   * order), at most `waitMs`. A copy already past it, or still short when the wait is over,
   * refuses: bad_offset with its size.
   */
  async waitTurn(chunkId: string, offset: number, sizeOf: () => number, waitMs: number): Promise<void> {
    const deadline = performance.now() + waitMs;
    for (;;) {
      const size = sizeOf();
      if (size === offset) return;
      const left = deadline - performance.now();
      if (size > offset || left <= 0) throw new BadOffsetError(size);
      await new Promise<void>((resolve) => {
        let waiters = this.turns.get(chunkId);
        if (!waiters) this.turns.set(chunkId, (waiters = new Set()));
        const wake = (): void => {
          clearTimeout(timer);
          waiters!.delete(wake);
          if (waiters!.size === 0 && this.turns.get(chunkId) === waiters) this.turns.delete(chunkId);
          resolve();
        };
        const timer = setTimeout(wake, left);
        waiters.add(wake);
      });
    }
  }

  /** The copy's end moved (or a record failed): waiters look again. */
  moved(chunkId: string): void {
    for (const wake of [...(this.turns.get(chunkId) ?? [])]) wake();
  }

  /** Sends the record to each other holder in parallel; resolves with the holders that refused or failed. */
  async forward(holders: readonly string[], body: Reply): Promise<string[]> {
    const failed = await Promise.all(
      holders.map(async (peer) => {
        try {
          const reply = await this.opts.rpc.request(peer, body, this.opts.dataTimeoutMs);
          if (reply.status === 'ok') return null;
          this.opts.log.warn({ peer, chunk_id: body.chunk_id, offset: body.offset, message: reply.message }, 'holder refused a forwarded record');
        } catch (err) {
          this.opts.log.warn({ peer, chunk_id: body.chunk_id, offset: body.offset, err: (err as Error).message }, 'forwarding a record failed');
        }
        return peer;
      }),
    );
    return failed.filter((p): p is string => p !== null);
  }

  /**
   * Tells the master the chunk's new end and the holders that have it (update_chunk_offset),
   * one call in flight per chunk: reports made meanwhile go together in the next, the
   * longest end with its version. Resolves once a call that covers this report was answered
   * (or failed: the heartbeats' reports reconcile the length).
   */
  reportEnd(filePath: string, chunkId: string, size: number, version: number, holders: string[]): Promise<void> {
    const { master } = this.opts;
    if (!master) return Promise.resolve();
    let entry = this.reports.get(chunkId);
    if (!entry) this.reports.set(chunkId, (entry = { next: null, sending: false }));
    const e = entry;
    return new Promise<void>((resolve) => {
      // At one end the first report's holders stand: a later one at that end (a full chunk
      // asked again) names only the primary and must not take the others' names away.
      if (!e.next || size > e.next.size) e.next = { size, version, holders, waiters: [...(e.next?.waiters ?? []), resolve] };
      else e.next.waiters.push(resolve);
      if (e.sending) return;
      e.sending = true;
      void (async () => {
        while (e.next) {
          const r = e.next;
          e.next = null;
          try {
            await master.updateChunkOffset({ file_path: filePath, chunk_id: chunkId, offset: r.size, chunk_locations: r.holders, ...(r.version ? { version: r.version } : {}) });
          } catch (err) {
            this.opts.log.warn({ chunk_id: chunkId, err: (err as Error).message }, 'could not report the chunk end to the master');
          }
          for (const w of r.waiters) w();
        }
        e.sending = false;
        this.reports.delete(chunkId);
      })();
    });
  }
}
