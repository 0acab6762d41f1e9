import { InsufficientSpaceError } from '../../errors.js';

/** How a reservation moves the account; kept out of the account's public face. */
interface Ledger {
  /** Claims `bytes` if they fit (nothing when not positive). */
  take(bytes: number): boolean;
  /** Gives `bytes` back; a negative count takes bytes on, limit or not (they are on disk). */
  give(bytes: number): void;
}

// Bytes held in the chunk directory, kept in memory: measured once at start-up, then moved
// only by reservations, so no request ever walks the directory and two writers can never
// both pass the check and overfill the limit (a reference defect).
export class SpaceAccount {
  private usedBytes: number;
  private readonly ledger: Ledger = {
    take: (bytes) => {
      if (bytes > 0 && this.usedBytes + bytes > this.limitBytes) return false;
      this.usedBytes += Math.max(0, bytes);
      return true;
    },
    give: (bytes) => {
      this.usedBytes = Math.max(0, this.usedBytes - bytes);
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

  fits(bytes: number): boolean {
    return bytes <= this.available;
  }

  /** Claims `bytes` (nothing when not positive), or fails with insufficient_space when they do not fit. */
  reserve(bytes: number): Reservation {
    const reservation = new Reservation(this.ledger);
    if (!reservation.grow(bytes)) throw new InsufficientSpaceError(this.available);
    return reservation;
  }

  /** Takes charge of bytes already counted in `used` (a prepared transaction found at start-up). */
  adopt(bytes: number): Reservation {
    return new Reservation(this.ledger, bytes);
  }
}

/**
 * Bytes held against the limit for one piece of work. It ends once: `settle` when the work
 * landed (what it keeps becomes part of what the disk holds), `release` when it did not.
 * Both are no-ops afterwards, so an owner may release in a `finally` whatever happened.
 */
export class Reservation {
  private ended = false;

  constructor(
    private readonly ledger: Ledger,
    private held = 0,
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
