/** Limits how many exchanges run at once against one address. */
export class Slots {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly max: number) {}

  get idle(): boolean {
    return this.running === 0 && this.waiting.length === 0;
  }

  /**
   * Resolves when a slot is free. `abandon` withdraws a caller that gave up waiting; it
   * returns false when the slot had already been granted (the caller must then release it).
   */
  acquire(): { ready: Promise<void>; abandon: () => boolean } {
    if (this.running < this.max) {
      this.running++;
      return { ready: Promise.resolve(), abandon: () => false };
    }
    let grant!: () => void;
    const ready = new Promise<void>((resolve) => (grant = resolve));
    const entry = (): void => {
      this.running++;
      grant();
    };
    this.waiting.push(entry);
    return {
      ready,
      abandon: () => {
        const i = this.waiting.indexOf(entry);
        if (i < 0) return false;
        this.waiting.splice(i, 1);
        return true;
      },
    };
  }

  release(): void {
    this.running--;
    this.waiting.shift()?.();
  }
}
