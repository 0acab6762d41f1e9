import type { Logger } from 'pino';

// A refresh on a miss is tried at most this often, so a client naming unknown addresses
// cannot make us ask the master for every request.
const MISS_REFRESH_MS = 1000;

export interface MembersOptions {
  /** This server's advertised `host:port`: never a forwarding target. */
  readonly self: string;
  /** Standalone: the fixed list (`[chunk_server] peers`). null: ask the master. */
  readonly fixed: readonly string[] | null;
  /** The master's current list of chunk servers (get_chunk_servers). */
  readonly fetch: (() => Promise<string[]>) | null;
  readonly log: Logger;
  readonly now?: () => number;
}

/**
 * The chunk servers this one may send chunk data to: the master's member list, cached and
 * refreshed after every heartbeat (and on a miss, at most once a second), or a fixed list
 * when standalone. Everything else (a client's address of choice, ourselves) is refused, so
 * no client can make a chunk server connect to an arbitrary host:port.
 */
export class Members {
  private known: ReadonlySet<string>;
  private lastMissFetchMs = -Infinity;
  private inFlight: Promise<void> | null = null;
  private missFetch: Promise<void> | null = null;
  private readonly now: () => number;

  constructor(private readonly opts: MembersOptions) {
    this.known = new Set(opts.fixed ?? []);
    this.now = opts.now ?? Date.now;
  }

  /** Fetches the master's list now (after a heartbeat); failures keep the previous list. */
  refresh(): Promise<void> {
    const fetch = this.opts.fetch;
    if (this.opts.fixed !== null || fetch === null) return Promise.resolve();
    this.inFlight ??= (async () => {
      try {
        this.known = new Set(await fetch());
      } catch (err) {
        this.opts.log.debug({ err: (err as Error).message }, 'could not refresh the member list');
      } finally {
        this.inFlight = null;
      }
    })();
    return this.inFlight;
  }

  /**
   * Whether `address` is a member by the list as it is now; a miss starts a refresh (at most
   * once a second), so a server that just joined is known by the next ask.
   */
  knows(address: string): boolean {
    if (this.known.has(address)) return true;
    if (this.opts.fixed === null && this.now() - this.lastMissFetchMs >= MISS_REFRESH_MS) {
      this.lastMissFetchMs = this.now();
      void this.refresh();
    }
    return false;
  }

  /** Whether chunk data may be sent to `address`. */
  async allows(address: string): Promise<boolean> {
    if (address === this.opts.self) return false;
    if (this.known.has(address)) return true;
    if (this.opts.fixed !== null) return false;
    if (this.missFetch === null) {
      if (this.now() - this.lastMissFetchMs < MISS_REFRESH_MS) return false;
      this.lastMissFetchMs = this.now();
      // A refresh already under way may have asked before `address` registered: the miss gets a fetch of its own.
      this.missFetch = (async () => {
        await this.inFlight;
        await this.refresh();
      })().finally(() => (this.missFetch = null));
    }
    // Misses at the same moment (a store sent to two new replicas) share that fetch.
    await this.missFetch;
    return this.known.has(address);
  }
}
