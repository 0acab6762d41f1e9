// Fresh memory is slow on these machines (a new 64 MiB Buffer costs ~50x a reused one, see
// shared/field-notes.md), so large frame bodies and I/O blocks come from reused slabs.

export interface Lease {
  /** Exactly the requested length; valid until release(). */
  readonly buf: Buffer;
  release(): void;
}

const MIN_CLASS_BYTES = 64 * 1024;

function sizeClass(bytes: number): number {
  let size = MIN_CLASS_BYTES;
  while (size < bytes) size *= 2;
  return size;
}

export class BufferPool {
  private readonly free = new Map<number, Buffer[]>();
  private retainedBytes = 0;

  /** @param maxRetainedBytes slabs kept for reuse beyond this are left to the GC */
  constructor(private readonly maxRetainedBytes: number) {}

  acquire(bytes: number): Lease {
    const cls = sizeClass(bytes);
    const slab = this.free.get(cls)?.pop();
    if (slab) this.retainedBytes -= cls;
    const owned = slab ?? Buffer.allocUnsafeSlow(cls);
    let released = false;
    return {
      buf: owned.subarray(0, bytes),
      release: () => {
        if (released) return;
        released = true;
        this.give(owned);
      },
    };
  }

  private give(slab: Buffer): void {
    if (this.retainedBytes + slab.length > this.maxRetainedBytes) return;
    let list = this.free.get(slab.length);
    if (!list) this.free.set(slab.length, (list = []));
    list.push(slab);
    this.retainedBytes += slab.length;
  }

  get retained(): number {
    return this.retainedBytes;
  }
}
