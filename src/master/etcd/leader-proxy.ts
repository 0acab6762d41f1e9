import { ProxyFailedError } from '../../errors.js';
import type { Reply } from '../../commands/define.js';
import { Rpc } from '../../net/rpc.js';
import { following } from '../../net/follow-leader.js';

export interface LeaderProxyOptions {
  /** Whole exchange with the leader (connect, send, reply), ms. */
  readonly timeoutMs: number;
  /** Proxied requests in flight at once; more are answered proxy_failed at once, not queued. */
  readonly maxInFlight: number;
  /** Largest reply relayed, bytes (the master's own frame limit). */
  readonly maxReplyBytes: number;
  /** Told how each request ended: the leader's reply relayed, no reply got, or refused past the cap (metrics). */
  readonly onOutcome?: (outcome: ProxyOutcome) => void;
}

export type ProxyOutcome = 'relayed' | 'failed' | 'over_cap';

/**
 * A standby's forwarding of a request it cannot serve to the leader, for senders that do not
 * follow not_leader themselves (the unchanged reference clients). Bounded so that a slow or
 * unreachable leader cannot pile requests up on a standby: one deadline per request and a cap
 * on those in flight, past which the standby refuses rather than waits.
 */
export class LeaderProxy {
  private inFlight = 0;
  private readonly rpc: Rpc;

  constructor(private readonly opts: LeaderProxyOptions) {
    // maxPerPeer = the cap: the cap below already keeps requests from queueing for a slot.
    this.rpc = new Rpc({ connectTimeoutMs: opts.timeoutMs, requestTimeoutMs: opts.timeoutMs, maxPerPeer: opts.maxInFlight, maxReplyBytes: opts.maxReplyBytes });
  }

  get proxying(): number {
    return this.inFlight;
  }

  /**
   * The leader's reply to `request`, relayed as it is; a failure to get one is answered
   * proxy_failed (naming the leader, so a client that can follow it may). The forwarded
   * request carries the follow marker: a master that is no longer leader answers not_leader
   * instead of proxying again, so two standbys with stale views cannot bounce it around.
   */
  async forward(leader: string, request: Record<string, unknown>): Promise<Reply> {
    if (this.inFlight >= this.opts.maxInFlight) {
      this.opts.onOutcome?.('over_cap');
      return new ProxyFailedError(`${this.opts.maxInFlight} requests already in flight to the leader`, leader).toReply();
    }
    this.inFlight++;
    try {
      const reply = await this.rpc.request(leader, following(request), this.opts.timeoutMs);
      this.opts.onOutcome?.('relayed');
      return reply;
    } catch (err) {
      this.opts.onOutcome?.('failed');
      return new ProxyFailedError((err as Error).message, leader).toReply();
    } finally {
      this.inFlight--;
    }
  }

  close(): void {
    this.rpc.close();
  }
}
