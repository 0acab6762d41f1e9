/**
 * Runs `fn` on items pulled from `next` with at most `limit` running at once. On the first
 * failure no new item starts; the first error is thrown once the running ones have settled.
 */
export async function runBounded<T>(next: () => Promise<T | null>, limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let failure: { err: unknown } | null = null;
  const worker = async (): Promise<void> => {
    while (!failure) {
      let item: T | null;
      try {
        item = await next();
      } catch (err) {
        failure ??= { err };
        return;
      }
      if (item === null) return;
      try {
        await fn(item);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, limit) }, worker));
  if (failure) throw (failure as { err: unknown }).err;
}

/** Bytes done of a transfer, reported to an optional callback; an attempt that fails gives its bytes back. */
export class Progress {
  private done = 0;
  constructor(
    private readonly total: number | undefined,
    private readonly cb?: (doneBytes: number, totalBytes: number | undefined) => void,
  ) {}

  add(n: number): void {
    this.done += n;
    this.cb?.(this.done, this.total);
  }

  /** Counter for one attempt, so a retry does not count its bytes twice. */
  attempt(): { add: (n: number) => void; undo: () => void } {
    let mine = 0;
    return {
      add: (n) => {
        mine += n;
        this.add(n);
      },
      undo: () => {
        this.add(-mine);
        mine = 0;
      },
    };
  }
}
