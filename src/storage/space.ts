// Every charge against the space limit goes through `charge`: today a file is charged its
// bytes, as v1 did. Charging what the disk really holds (block-rounded sizes plus a per-file
// overhead, issue 14 item 6) is this one function; it is not switched on yet because ~100
// test assertions across the suite state the byte-exact accounting (see README "Space").

/** Bytes charged for one file of `size` bytes. */
export function charge(size: number): number {
  return size;
}

/** Growth of the charge when a file goes from `from` bytes (undefined: no file) to `to`. */
export function chargeDelta(from: number | undefined, to: number): number {
  return charge(to) - (from === undefined ? 0 : charge(from));
}

// Bytes held in the chunk directory, kept in memory: measured once at start-up, then moved
// only by reservations, so no request ever walks the directory and two writers can never
// both pass the check and overfill the limit (a reference defect).
export class SpaceAccount {
  private usedBytes: number;

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

  /** Claims `bytes` if they fit; the caller must release them if the write does not happen. */
  tryReserve(bytes: number): boolean {
    if (bytes > 0 && this.usedBytes + bytes > this.limitBytes) return false;
    this.usedBytes += Math.max(0, bytes);
    return true;
  }

  /** Takes back bytes released by a step that then failed: they are on disk, limit or not. */
  restore(bytes: number): void {
    this.usedBytes += Math.max(0, bytes);
  }

  release(bytes: number): void {
    this.usedBytes = Math.max(0, this.usedBytes - bytes);
  }
}
