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
