import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crashPoint } from '../io/crash-points.js';
import { frameOf } from './frame.js';
import { packHeader } from './entry.js';
import { writeAll } from '../io/write-all.js';

// `<chunk dir>/.meta/wal-0.log` and `wal-1.log`: one takes new records while the other,
// full, waits for its checkpoint; each starts with a header frame naming its generation.
export const WAL_FILES = ['wal-0.log', 'wal-1.log'] as const;

interface Pending {
  readonly chunkId: string;
  readonly frame: Buffer;
  /** A store's record: its file was renamed into place unflushed (see renamedUnflushed). */
  readonly store: boolean;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/** A file taken out of use by a rotation, and the chunks its records touched (what its checkpoint must cover). */
export interface Rotated {
  readonly index: 0 | 1;
  readonly dirty: ReadonlySet<string>;
}

/** Room held for one record in the active file, taken before any chunk lock (see `room`). */
export interface LogRoom {
  /** Durable once this resolves: written and fdatasynced, with every record queued beside it. */
  append(chunkId: string, frame: Buffer): Promise<void>;
  release(): void;
}

/**
 * The server-wide write-ahead log of small appends and stores, with group commit: records queued while
 * a write+fdatasync is running go out together in the next one, so N concurrent appenders
 * pay one flush between them instead of N. Bounded: each file holds at most `capBytes`;
 * a record that does not fit waits for the other file's checkpoint and a rotation (asked
 * for through `full`). Room is taken before the chunk lock, because the checkpoint that
 * makes room takes the chunk locks of what it flushes.
 */
export class WriteAheadLog {
  private active: 0 | 1 = 0;
  private readonly sizes = [0, 0];
  private readonly dirty: [Set<string>, Set<string>] = [new Set(), new Set()];
  private readonly stored: [Set<string>, Set<string>] = [new Set(), new Set()];
  private otherBusy = false;
  private queue: Pending[] = [];
  private queuedBytes = 0;
  private reservedBytes = 0;
  private flushing: Promise<void> | null = null;
  private switchWanted: Array<(r: Rotated | null) => void> = [];
  private roomWaiters: Array<() => void> = [];
  private failed: unknown = null;

  private constructor(
    private readonly handles: readonly [FileHandle, FileHandle],
    private generation: number,
    readonly capBytes: number,
    private readonly fsync: boolean,
    private readonly full: () => void,
    /** Room beyond capBytes that only store records may fill (STORE_LOG_BYTES, inside the disk margin). */
    readonly storeCapBytes: number,
  ) {}

  /** Empty log files (start-up, once replay is committed), the next records under `generation`. */
  static async create(metaDir: string, generation: number, capBytes: number, fsync: boolean, full: () => void, storeCapBytes = 0): Promise<WriteAheadLog> {
    const handles = await Promise.all(WAL_FILES.map((name) => open(join(metaDir, name), 'w+', 0o644)));
    if (fsync) {
      await Promise.all(handles.map((h) => h.datasync()));
      const dir = await open(metaDir, 'r');
      await dir.sync().finally(() => dir.close());
    }
    return new WriteAheadLog([handles[0]!, handles[1]!], generation, capBytes, fsync, full, storeCapBytes);
  }

  /** The largest append that goes through the log: a quarter of a file, so a full file holds several. */
  get maxRecordBytes(): number {
    return Math.floor(this.capBytes / 4);
  }

  /**
   * Waits until the active file has `bytes` free, and holds them. A `store` record may fill
   * the file past capBytes by storeCapBytes (a few of the largest stores share a flush);
   * every other record fits below capBytes, as before logged stores.
   */
  async room(bytes: number, store = false): Promise<LogRoom> {
    const cap = this.capBytes + (store ? this.storeCapBytes : 0);
    for (;;) {
      if (this.failed !== null) throw this.failed;
      const used = this.sizes[this.active]! + this.queuedBytes + this.reservedBytes;
      if (used === 0 || used + bytes <= cap) break;
      if (!this.otherBusy) this.full();
      await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
    }
    this.reservedBytes += bytes;
    let held = true;
    const release = (): void => {
      if (!held) return;
      held = false;
      this.reservedBytes -= bytes;
      this.wake();
    };
    return {
      release,
      append: (chunkId, frame) => {
        release();
        return this.enqueue(chunkId, frame, store);
      },
    };
  }

  /**
   * Switches new records to the other file once the current batch is durable, and returns
   * the one just closed (null when it holds nothing). The caller checkpoints it and calls
   * `release`; until then there is no second rotation.
   */
  rotate(): Promise<Rotated | null> {
    if (this.otherBusy) return Promise.reject(new Error('the other log file awaits its checkpoint'));
    return new Promise((resolve) => {
      this.switchWanted.push(resolve);
      this.kick();
    });
  }

  /** The rotated file is checkpointed: emptied, and free for the next rotation. */
  async release(index: 0 | 1): Promise<void> {
    const h = this.handles[index];
    await h.truncate(0);
    if (this.fsync) await h.datasync();
    this.sizes[index] = 0;
    this.dirty[index].clear();
    this.stored[index].clear();
    this.otherBusy = false;
    this.wake();
  }

  /**
   * Logs a record of a few dozen bytes (a delete after a logged store) without taking room:
   * it may be written under a chunk lock, where waiting for a checkpoint could deadlock.
   * There is at most one per logged store, whose room was far larger.
   */
  appendTiny(chunkId: string, frame: Buffer): Promise<void> {
    return this.enqueue(chunkId, frame, false);
  }

  /** Whether a durable store record of either file renamed the chunk's file into place (unflushed until a checkpoint). */
  renamedUnflushed(chunkId: string): boolean {
    return this.stored[0].has(chunkId) || this.stored[1].has(chunkId);
  }

  /** Every append from now on fails with `err` (a flush that failed: what is on disk is unknown). */
  fail(err: unknown): void {
    this.failed ??= err;
    for (const p of this.queue.splice(0)) p.reject(err);
    this.queuedBytes = 0;
    this.wake();
  }

  async close(): Promise<void> {
    while (this.flushing) await this.flushing;
    await Promise.all(this.handles.map((h) => h.close()));
  }

  private enqueue(chunkId: string, frame: Buffer, store: boolean): Promise<void> {
    if (this.failed !== null) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      this.queue.push({ chunkId, frame, store, resolve, reject });
      this.queuedBytes += frame.length;
      this.kick();
    });
  }

  private kick(): void {
    this.flushing ??= this.flushLoop();
  }

  private async flushLoop(): Promise<void> {
    // Yields first, so that `flushing` is set before the loop can end and clear it.
    await null;
    try {
      while (this.queue.length > 0 || this.switchWanted.length > 0) {
        if (this.switchWanted.length > 0) this.switchFiles();
        else await this.writeBatch();
      }
    } finally {
      this.flushing = null;
    }
  }

  private switchFiles(): void {
    const waiting = this.switchWanted.splice(0);
    const old = this.active;
    const result: Rotated | null = this.sizes[old] === 0 ? null : { index: old, dirty: this.dirty[old] };
    if (result) {
      this.active = old === 0 ? 1 : 0;
      this.generation++;
      this.otherBusy = true;
    }
    for (const resolve of waiting) resolve(result);
    this.wake();
  }

  private async writeBatch(): Promise<void> {
    const batch = this.queue.splice(0);
    const index = this.active;
    const h = this.handles[index];
    const pieces = batch.map((p) => p.frame);
    const frames = pieces.reduce((n, b) => n + b.length, 0);
    if (this.sizes[index] === 0) pieces.unshift(frameOf(packHeader(this.generation)));
    for (const p of batch) this.dirty[index].add(p.chunkId);
    try {
      const bytes = await writeAll(h, pieces, this.sizes[index]!);
      crashPoint('wal.written');
      if (this.fsync) {
        // A failed fdatasync leaves unknown what reached the disk: nothing more is acknowledged.
        await h.datasync().catch((err: unknown) => {
          this.fail(err);
          throw err;
        });
      }
      crashPoint('wal.synced');
      this.sizes[index]! += bytes;
      this.queuedBytes -= frames;
      for (const p of batch) {
        if (p.store) this.stored[index].add(p.chunkId);
        p.resolve();
      }
    } catch (err) {
      // A failed write is rewritten over by the next batch at the same offset: a torn frame never precedes a whole one.
      this.queuedBytes = Math.max(0, this.queuedBytes - frames);
      for (const p of batch) p.reject(err);
    }
    this.wake();
  }

  private wake(): void {
    for (const w of this.roomWaiters.splice(0)) w();
  }
}
