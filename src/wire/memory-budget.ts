/**
 * Bytes of incoming frame bodies a server holds in memory at once, over all connections.
 * Allocation failures of large Buffers cannot be relied on to surface as exceptions (V8
 * aborts the process when its own heap cannot grow next to them), so a frame that would
 * pass this budget is refused before anything is allocated.
 */
export class MemoryBudget {
  private heldBytes = 0;

  constructor(readonly limitBytes: number) {}

  get held(): number {
    return this.heldBytes;
  }

  /** Throws BudgetExceeded unless `bytes` more fit. */
  take(bytes: number): void {
    if (this.heldBytes + bytes > this.limitBytes) throw new BudgetExceeded(bytes, this.limitBytes - this.heldBytes);
    this.heldBytes += bytes;
  }

  give(bytes: number): void {
    this.heldBytes = Math.max(0, this.heldBytes - bytes);
  }
}

export class BudgetExceeded extends RangeError {
  override name = 'BudgetExceeded';
  constructor(wanted: number, free: number) {
    super(`frame memory budget: ${wanted} bytes wanted, ${Math.max(0, free)} free`);
  }
}
