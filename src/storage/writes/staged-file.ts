import { open, unlink, type FileHandle } from 'node:fs/promises';
import type { BufferPool } from '../../wire/buffer-pool.js';
import type { FileBody } from '../../wire/payload.js';
import type { SpilledBin, SpillTarget } from '../../wire/payload.js';
import { fileBodyOf } from '../io/file-body.js';
import { charge } from '../space/charges.js';
import type { GrowingReservation, SpaceAccount } from '../space/space-account.js';
import { writeAll } from '../io/write-all.js';

// writev takes at most IOV_MAX (1024 on Linux) buffers per call.
const MAX_IOV = 1024;

type State = 'receiving' | 'installed' | 'discarded';

/**
 * A large bin value written to a temp file in the chunk directory while its frame arrives.
 * Reserves space as its bytes arrive (issue 14: an announced size alone holds nothing), so
 * concurrent uploads can never overfill the limit and a header without its bytes takes no
 * one's space; once complete it holds a reservation for its full size. The store either
 * installs it as a chunk (taking over file and reservation) or it is discarded (temp
 * unlinked, reservation released). Bytes that do not fit yet wait in line for room (issue
 * 22 item 5, the rule in SpaceAccount); refused, it fails with insufficient_space and gives
 * its room back at once, so the stores that still fit can go on.
 */
export class StagedFile implements SpillTarget, SpilledBin {
  readonly kind = 'spilled';
  private readonly opened: Promise<FileHandle>;
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  private received = 0;
  private written = 0;
  private flushing: Promise<void> | null = null;
  private error: unknown = null;
  private state: State = 'receiving';
  private waiters: Array<{ bytes: number; resolve: () => void }> = [];
  /** What this file holds reserved so far; the store settles it when it installs the file. */
  readonly reservation: GrowingReservation;

  /** Resolves once the file's directory entry is durable (started when the file is created); null: not asked. */
  private readonly entrySynced: Promise<void> | null;

  /**
   * Fails with insufficient_space when `size` bytes could never fit; `spaceWaitMs` bounds its
   * waits for room. `tagged`: the file is written where a large store's version lives (its
   * chunk and file name); `syncEntry` then makes its directory entry durable, started as soon
   * as the file exists so that it runs while the bytes arrive, not after them.
   */
  constructor(
    readonly path: string,
    readonly size: number,
    space: SpaceAccount,
    private readonly pool: BufferPool,
    spaceWaitMs: number,
    readonly tagged: { readonly chunkId: string; readonly name: string } | null = null,
    syncEntry: (() => Promise<void>) | null = null,
  ) {
    this.reservation = space.reserveGrowing(charge(size), spaceWaitMs);
    this.opened = open(path, 'wx+', 0o644);
    this.opened.catch((err: unknown) => this.fail(err));
    this.entrySynced = syncEntry && this.opened.then(syncEntry);
    this.entrySynced?.catch(() => undefined);
  }

  get backlogBytes(): number {
    return this.queuedBytes;
  }

  write(piece: Buffer): void {
    if (this.error !== null || this.state !== 'receiving') return;
    this.queue.push(piece);
    this.queuedBytes += piece.length;
    this.received += piece.length;
    this.flushing ??= this.flush();
  }

  drained(bytes: number): Promise<void> {
    if (this.queuedBytes <= bytes || this.error !== null || this.state === 'discarded') return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ bytes, resolve }));
  }

  async finish(): Promise<SpilledBin> {
    while (this.flushing) await this.flushing;
    if (this.error !== null) throw this.error;
    if (this.received !== this.size || this.written !== this.size) throw new Error(`staged ${this.written} of ${this.size} bytes`);
    return this;
  }

  fileBody(): FileBody {
    if (this.state === 'discarded') throw new Error('staged data already discarded');
    // Reads through the handle, which stays valid after the rename that installs the file.
    let handle: FileHandle | null = null;
    const body = {
      kind: 'file' as const,
      size: this.size,
      pipe: async (sink: (block: Buffer) => Promise<void>) => {
        handle ??= await this.opened;
        await fileBodyOf(handle, this.size, this.pool, async () => undefined).pipe(sink);
      },
      close: async () => undefined,
    };
    return body;
  }

  /**
   * Waits for every byte to be written and, when `durable`, on disk (fdatasync, the one data
   * flush of a large store) with its directory entry (the shared directory fsync begun at
   * creation; the entry is what a power cut would otherwise lose).
   */
  async seal(durable: boolean): Promise<void> {
    if (this.state !== 'receiving') throw new Error(`staged data is ${this.state}`);
    await this.finish();
    if (durable) await Promise.all([this.opened.then((fh) => fh.datasync()), this.entrySynced]);
  }

  /**
   * The store renamed the sealed file into place: file and space reservation are its now,
   * and discard() only closes the handle (which stays readable for fileBody()).
   */
  adopted(): void {
    this.state = 'installed';
  }

  async discard(): Promise<void> {
    if (this.state === 'discarded') return;
    const installed = this.state === 'installed';
    this.state = 'discarded';
    this.queue = [];
    this.queuedBytes = 0;
    this.notify();
    if (!installed) this.reservation.refuse();
    while (this.flushing) await this.flushing;
    const fh = await this.opened.catch(() => null);
    await fh?.close().catch(() => undefined);
    if (installed) return;
    if (fh) await unlink(this.path).catch(() => undefined);
    this.reservation.release();
  }

  private async flush(): Promise<void> {
    try {
      const fh = await this.opened;
      while (this.queue.length > 0 && this.error === null && this.state === 'receiving') {
        const batch = this.queue.splice(0, MAX_IOV);
        let bytes = 0;
        for (const b of batch) bytes += b.length;
        // Charged as the disk holds it: whole blocks and the file's overhead, as they are reached.
        await this.reservation.growWhenRoom(charge(this.written + bytes) - this.reservation.bytes);
        if (this.error !== null || this.state !== 'receiving') break;
        await writeAll(fh, batch, this.written);
        this.written += bytes;
        this.queuedBytes -= bytes;
        this.notify();
      }
    } catch (err) {
      this.fail(err);
    } finally {
      this.flushing = null;
    }
  }

  private fail(err: unknown): void {
    if (this.error !== null) return;
    this.error = err;
    this.queue = [];
    this.queuedBytes = 0;
    this.notify();
    void this.giveBack();
  }

  /**
   * A failed file is never installed: its room goes back now rather than when its frame ends,
   * because stores waiting in line may need it. The bytes already written go first, so the
   * disk never holds more than the account counts.
   */
  private async giveBack(): Promise<void> {
    while (this.flushing) await this.flushing;
    const fh = await this.opened.catch(() => null);
    await fh?.truncate(0).catch(() => undefined);
    this.reservation.release();
  }

  private notify(): void {
    const stop = this.error !== null || this.state === 'discarded';
    this.waiters = this.waiters.filter((w) => {
      if (!stop && this.queuedBytes > w.bytes) return true;
      w.resolve();
      return false;
    });
  }
}
