// Chunk leases (GFS 3.1; PROTOCOL.md, "Leases and record_append"): one current holder of a
// chunk, the primary, picks the offsets of record appends while its lease lasts. The promise
// kept here: a lease is never held by two servers at once. A new primary is named only once
// the old lease has run out as this master measures it (a monotonic clock, so a wall clock
// stepped back cannot end a lease early), and a restarted master grants nothing before the
// longest lease it may have granted has run out: the horizon of its grants is kept in a
// small file, pushed one lease ahead at a time, so it is written about once per lease.
import { open, readFile, rename } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';

export interface Lease {
  readonly primary: string;
  /** When it ends, in ms of the monotonic clock (performance.now()). */
  readonly end: number;
  /**
   * Wall-clock ms of the grant, raised past the chunk's last one: grows with every new grant,
   * across restarts too (a restarted master grants only after the old leases ran out). Holders
   * refuse records forwarded under an older epoch than one they have seen.
   */
  readonly epoch: number;
}

export interface LeaseGrant extends Lease {
  /** ms left, as the master measures it. */
  readonly remainingMs: number;
  /** When it ends in wall-clock ms (for the client's cache only). */
  readonly endEpochMs: number;
}

export type LeaseAnswer =
  | { kind: 'granted'; lease: LeaseGrant }
  /** Another server holds a lease that has not run out. */
  | { kind: 'held'; lease: LeaseGrant }
  /** No holder may take one now: none is current and live, or the restart wait is on. */
  | { kind: 'none' };

const HORIZON_FILE_VERSION = 1;

export class Leases {
  private readonly leases = new Map<string, Lease>();
  private lastEpoch = 0;
  /** No grant before this (monotonic ms): a restart's wait, or a new leader's. */
  private quietUntil: number;
  /** Wall-clock ms up to which grants are covered by the horizon file. */
  private horizon: number;
  private persisting: Promise<void> | null = null;

  private constructor(
    private readonly leaseMs: number,
    private readonly file: string | null,
    persisted: number,
    private readonly now: () => number,
  ) {
    const wait = Math.max(0, Math.min(persisted - Date.now(), leaseMs));
    this.quietUntil = now() + wait;
    this.horizon = persisted;
  }

  /**
   * `file` null: nothing is kept (benchmarks, unit tests). A horizon in the file still ahead
   * of the wall clock makes the master wait it out, at most one lease (a clock stepped
   * forward since must not stop grants for longer).
   */
  static async open(leaseMs: number, file: string | null, now: () => number = () => performance.now()): Promise<Leases> {
    let persisted = 0;
    if (file !== null) {
      try {
        const parsed = JSON.parse(await readFile(file, 'utf8')) as { until?: unknown };
        if (typeof parsed.until === 'number' && Number.isFinite(parsed.until)) persisted = parsed.until;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    return new Leases(leaseMs, file, persisted, now);
  }

  /** Kept nowhere: for a master whose restarts need not keep the promise (benchmarks, unit tests). */
  static inMemory(leaseMs: number, now: () => number = () => performance.now()): Leases {
    return new Leases(leaseMs, null, 0, now);
  }

  get durationMs(): number {
    return this.leaseMs;
  }

  /** Monotonic ms before which a restarted master grants nothing (0 when it need not wait). */
  get restartWaitMs(): number {
    return Math.max(0, this.quietUntil - this.now());
  }

  /**
   * A master that just became leader over etcd grants nothing for one lease: any lease the
   * old leader granted ends by then (README, "Several masters": the old leader granted only
   * while it judged itself leader, before this one took office, and a holder counts its
   * lease from when it asked). Renewals wait too: this master does not know the holders.
   */
  holdOff(): void {
    this.quietUntil = Math.max(this.quietUntil, this.now() + this.leaseMs);
  }

  /** The lease in force on the chunk, if any. */
  current(chunkId: string): LeaseGrant | null {
    const l = this.leases.get(chunkId);
    if (!l) return null;
    const now = this.now();
    if (l.end <= now) return null;
    return this.view(l, now);
  }

  /**
   * A lease for the chunk among `holders` (its current live copies), `requester` asking (a
   * chunk server that wants to act as primary) or not (a client that wants to know). The
   * holder of a lease in force has it renewed; anyone else is told who holds it. With none in
   * force, the requester (if current), else the last primary (if current), else the first holder gets it.
   */
  async acquire(chunkId: string, holders: readonly string[], requester: string | null): Promise<LeaseAnswer> {
    const now = this.now();
    const held = this.leases.get(chunkId);
    if (held && held.end > now) {
      if (requester !== held.primary || !holders.includes(requester)) return { kind: requester === null ? 'granted' : 'held', lease: this.view(held, now) };
      return { kind: 'granted', lease: await this.extend(chunkId, held) };
    }
    if (now < this.quietUntil || holders.length === 0) return { kind: 'none' };
    const primary = requester !== null && holders.includes(requester) ? requester : held && holders.includes(held.primary) ? held.primary : requester === null ? holders[0]! : null;
    if (primary === null) return { kind: 'none' };
    const epoch = (this.lastEpoch = Math.max(Date.now(), this.lastEpoch + 1));
    return { kind: 'granted', lease: await this.extend(chunkId, { primary, end: now, epoch }) };
  }

  private async extend(chunkId: string, l: Lease): Promise<LeaseGrant> {
    await this.cover(Date.now() + this.leaseMs);
    const now = this.now();
    const lease: Lease = { primary: l.primary, end: now + this.leaseMs, epoch: l.epoch };
    // Another grant may have run while the horizon was written: the first one stands.
    const other = this.leases.get(chunkId);
    if (other && other.end > now && other.primary !== lease.primary) return this.view(other, now);
    this.leases.set(chunkId, lease);
    return this.view(lease, now);
  }

  /** Makes the horizon file cover wall-clock `until` before a grant lasting that long is given. */
  private async cover(until: number): Promise<void> {
    if (this.file === null) return;
    while (this.horizon < until) {
      if (!this.persisting) {
        // One lease ahead, so the file is written about once per lease, not per grant.
        const next = until + this.leaseMs;
        this.persisting = writeHorizon(this.file, next)
          .then(() => {
            this.horizon = Math.max(this.horizon, next);
          })
          .finally(() => {
            this.persisting = null;
          });
      }
      await this.persisting;
    }
  }

  private view(l: Lease, now: number): LeaseGrant {
    const remainingMs = Math.max(0, l.end - now);
    return { ...l, remainingMs, endEpochMs: Date.now() + remainingMs };
  }
}

/** Written whole and renamed into place, file and rename made durable, so a crash leaves the old horizon or the new. */
async function writeHorizon(file: string, until: number): Promise<void> {
  const tmp = `${file}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(JSON.stringify({ version: HORIZON_FILE_VERSION, until }));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  const dir = await open(file.slice(0, Math.max(1, file.lastIndexOf('/'))), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
