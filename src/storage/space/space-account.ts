import { InsufficientSpaceError } from '../../errors.js';

/** How a reservation moves the account; kept out of the account's public face. */
interface Ledger {
  /** Claims `bytes` if they fit (nothing when not positive). */
  take(bytes: number): boolean;
  /** Gives `bytes` back; a negative count takes bytes on, limit or not (they are on disk). */
  give(bytes: number): void;
  /** A growing reservation ended (settled or released): it leaves the line. */
  leave(r: GrowingReservation): void;
  /** A growing reservation asks for more than is free, or behind an older one that waits. */
  queue(r: GrowingReservation): void;
  /** Whether an older growing reservation is waiting (a newer one must not pass it). */
  olderWaits(r: GrowingReservation): boolean;
  /** What a refusal reports as available_space. */
  free(): number;
}

// Bytes held in the chunk directory, kept in memory: measured once at start-up, then moved
// only by reservations, so no request ever walks the directory and two writers can never
// both pass the check and overfill the limit (a reference defect).
//
// Growing reservations (stores, streamed or whole: issue 22 item 5) wait in arrival order for room
// instead of failing at once, because the room they lack is often held by others that are
// about to fail and give it back. The rule, stated in PROTOCOL.md "Limits":
//  1. refused at once when its whole need does not fit beside the settled bytes (everything
//     but growing reservations): no release can ever make room for it;
//  2. otherwise the oldest waiter is served first, as soon as its bytes fit;
//  3. when every growing reservation is waiting, none can give anything back by itself:
//     the youngest waiter is refused (it could not fit even if every older one finished);
//  4. a waiter still waiting at its deadline is refused.
export class SpaceAccount {
  private usedBytes: number;
  /** Open growing reservations, in arrival order (a Set iterates in insertion order). */
  private readonly growing = new Set<GrowingReservation>();
  private waking = false;
  private readonly ledger: Ledger = {
    take: (bytes) => {
      if (bytes > 0 && this.usedBytes + bytes > this.limitBytes) return false;
      this.usedBytes += Math.max(0, bytes);
      return true;
    },
    give: (bytes) => {
      this.usedBytes = Math.max(0, this.usedBytes - bytes);
      this.wake();
    },
    leave: (r) => {
      this.growing.delete(r);
    },
    queue: () => this.wake(),
    free: () => this.available,
    olderWaits: (r) => {
      for (const other of this.growing) {
        if (other === r) return false;
        if (other.waiting) return true;
      }
      return false;
    },
  };

  constructor(
    readonly limitBytes: number,
    initialUsedBytes: number,
  ) {
    this.usedBytes = initialUsedBytes;
  }

  get used(): number {
    return this.usedBytes;
  }

  /** Never negative, even when the disk already held more than the limit at start-up. */
  get available(): number {
    return Math.max(0, this.limitBytes - this.usedBytes);
  }

  /** Bytes no growing reservation holds: what stays taken if every one of them fails. */
  get settled(): number {
    let held = 0;
    for (const r of this.growing) held += r.bytes;
    return this.usedBytes - held;
  }

  fits(bytes: number): boolean {
    return bytes <= this.available;
  }

  /** Whether `bytes` would fit once every growing reservation gave its bytes back (rule 1 above). */
  couldFit(bytes: number): boolean {
    return this.settled + bytes <= this.limitBytes;
  }

  /** Claims `bytes` (nothing when not positive), or fails with insufficient_space when they do not fit. */
  reserve(bytes: number): Reservation {
    const reservation = new Reservation(this.ledger);
    if (!reservation.grow(bytes)) throw new InsufficientSpaceError(this.available);
    return reservation;
  }

  /**
   * A reservation that starts empty and grows as its bytes arrive, up to `needBytes`, waiting
   * in line for room at most until `waitMs` from now. Fails with insufficient_space at once
   * when `needBytes` could not fit even if every growing reservation gave its bytes back.
   */
  reserveGrowing(needBytes: number, waitMs: number): GrowingReservation {
    if (!this.couldFit(needBytes)) throw new InsufficientSpaceError(this.available);
    const r = new GrowingReservation(this.ledger, needBytes, Date.now() + waitMs);
    this.growing.add(r);
    return r;
  }

  /** Takes charge of bytes already counted in `used` (a prepared transaction found at start-up). */
  adopt(bytes: number): Reservation {
    return new Reservation(this.ledger, bytes);
  }

  /** Applies the rule above until nothing more can be decided now. */
  private wake(): void {
    if (this.waking) return;
    this.waking = true;
    try {
      while (this.decideOne());
    } finally {
      this.waking = false;
    }
  }

  /** Grants or refuses one waiter; false when every waiter must go on waiting. */
  private decideOne(): boolean {
    const waiting = [...this.growing].filter((r) => r.waiting);
    if (waiting.length === 0) return false;
    const settled = this.settled;
    const hopeless = waiting.find((r) => settled + r.need > this.limitBytes);
    if (hopeless) {
      hopeless.refuse();
      return true;
    }
    if (waiting[0]!.tryGrant()) return true;
    if (waiting.length < this.growing.size) return false;
    waiting[waiting.length - 1]!.refuse();
    return true;
  }
}

/**
 * Bytes held against the limit for one piece of work. It ends once: `settle` when the work
 * landed (what it keeps becomes part of what the disk holds), `release` when it did not.
 * Both are no-ops afterwards, so an owner may release in a `finally` whatever happened.
 */
export class Reservation {
  protected ended = false;

  constructor(
    protected readonly ledger: Ledger,
    protected held = 0,
  ) {}

  get bytes(): number {
    return this.held;
  }

  /** Claims `bytes` more if they fit. */
  grow(bytes: number): boolean {
    if (this.ended || !this.ledger.take(bytes)) return false;
    this.held += Math.max(0, bytes);
    return true;
  }

  /** The work landed and the account keeps `keep` bytes in place of those held (more or fewer). */
  settle(keep: number): void {
    if (this.ended) return;
    this.ended = true;
    this.ledger.give(this.held - keep);
  }

  release(): void {
    this.settle(0);
  }
}

interface Wait {
  readonly bytes: number;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
  readonly timer: NodeJS.Timeout;
}

/** A reservation that grows as its bytes arrive and may wait for room (see SpaceAccount). */
export class GrowingReservation extends Reservation {
  private wait: Wait | null = null;

  constructor(
    ledger: Ledger,
    /** All it will hold once its work is complete. */
    readonly need: number,
    private readonly deadlineMs: number,
  ) {
    super(ledger);
  }

  get waiting(): boolean {
    return this.wait !== null;
  }

  /** Claims `bytes` more: at once when they fit and no older reservation waits, else in line. */
  growWhenRoom(bytes: number): Promise<void> {
    if (this.ended) return Promise.reject(new Error('reservation already ended'));
    if (this.wait !== null) return Promise.reject(new Error('already waiting for room'));
    // Nothing more to claim (the bytes stay within a block already held): no reason to queue.
    if (bytes <= 0 || (!this.ledger.olderWaits(this) && this.grow(bytes))) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => this.refuse(), Math.max(0, this.deadlineMs - Date.now()));
      timer.unref();
      this.wait = { bytes, resolve, reject, timer };
      this.ledger.queue(this);
    });
  }

  /** Ends a wait with insufficient_space (the work was abandoned, or the account decided). */
  refuse(): void {
    this.takeWait()?.reject(new InsufficientSpaceError(this.ledger.free()));
  }

  /** Called by the account for the oldest waiter: grants its bytes if they fit. */
  tryGrant(): boolean {
    if (this.wait === null || !this.grow(this.wait.bytes)) return false;
    this.takeWait()?.resolve();
    return true;
  }

  override settle(keep: number): void {
    if (this.ended) return;
    this.refuse();
    this.ledger.leave(this);
    super.settle(keep);
  }

  private takeWait(): Wait | null {
    const wait = this.wait;
    if (wait) clearTimeout(wait.timer);
    this.wait = null;
    return wait;
  }
}
