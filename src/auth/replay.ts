// Sweep the remembered proofs once this many were added since the last sweep.
const SWEEP_EVERY = 4096;

/**
 * The replay window: a proof is taken only if its timestamp is within `windowMs` of this
 * server's clock (either side, for skew) and its MAC was not seen before. A MAC is remembered
 * until its timestamp leaves the window, after which the clock check refuses it anyway.
 */
export class ReplayWindow {
  private readonly seen = new Map<string, number>();
  private added = 0;

  constructor(readonly windowMs: number) {}

  /** null when the proof is fresh (and now remembered), else why not. */
  admit(mac: Buffer, tsMs: number, nowMs = Date.now()): 'expired' | 'replayed' | null {
    if (Math.abs(nowMs - tsMs) > this.windowMs) return 'expired';
    const key = mac.toString('base64');
    if (this.seen.has(key)) return 'replayed';
    if (++this.added >= SWEEP_EVERY) this.sweep(nowMs);
    this.seen.set(key, tsMs + this.windowMs);
    return null;
  }

  get remembered(): number {
    return this.seen.size;
  }

  private sweep(nowMs: number): void {
    this.added = 0;
    for (const [key, until] of this.seen) if (until < nowMs) this.seen.delete(key);
  }
}
