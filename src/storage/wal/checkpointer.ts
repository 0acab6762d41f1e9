import type { Logger } from 'pino';
import type { ChunkTable } from '../chunks/table.js';
import { crashPoint } from '../io/crash-points.js';
import type { Rotated, WriteAheadLog } from './writer.js';

/**
 * Makes a full log file unnecessary, so that it can be emptied: for every chunk its records
 * touched, under the chunk's lock (so no append of it is half-way), the chunk file is
 * fdatasynced (and the directory, when a logged store renamed it into place) and then the chunk's record as it stands in memory is committed to the
 * metadata store. The in-memory record may include appends logged in the newer file too;
 * their bytes are in the file just flushed, and replay skips those entries as already
 * applied. Only then is the file emptied.
 */
export class Checkpointer {
  private running: Promise<void> | null = null;
  /** A rotated file whose checkpoint failed: retried before any new rotation. */
  private unfinished: Rotated | null = null;
  private again = false;

  constructor(
    private readonly table: ChunkTable,
    private readonly log: WriteAheadLog,
    private readonly fsync: boolean,
    private readonly logger: Logger,
  ) {}

  /** The log is full: start a checkpoint, or another one right after the one running (which may have rotated before this fill). */
  request(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.run()
      .catch((err: unknown) => {
        // Appends cannot go on without room: they fail until a restart replays the log.
        this.logger.error({ err }, 'log checkpoint failed');
        this.log.fail(err);
      })
      .finally(() => {
        this.running = null;
        if (!this.again) return;
        this.again = false;
        this.request();
      });
  }

  /** At close: the last checkpoint, so the next start has nothing to replay. */
  async close(): Promise<void> {
    while (this.running) await this.running;
    await this.run();
  }

  private async run(): Promise<void> {
    const rotated = this.unfinished ?? (await this.log.rotate());
    if (!rotated) return;
    this.unfinished = rotated;
    const commits: Array<Promise<void>> = [];
    // All chunks at once, each under its own lock: their fdatasyncs overlap, and the lmdb
    // puts issued meanwhile share commits, so a checkpoint ends before the other file fills.
    await Promise.all(
      [...rotated.dirty].map((chunkId) =>
        this.table.withChunkLock(chunkId, async () => {
          const record = this.table.get(chunkId);
          if (!record) return;
          if (this.fsync && !(await this.table.files.syncData(chunkId))) return;
          // A logged store (in either file: the record committed may be the newer file's) renamed
          // its file into place unflushed; concurrent callers share the directory's fsync.
          if (this.log.renamedUnflushed(chunkId)) await this.table.files.syncDir();
          crashPoint('wal.checkpoint-synced');
          // Issued under the lock: lmdb commits in call order, so no later record of the chunk is overwritten.
          commits.push(this.table.records.put(chunkId, record));
        }),
      ),
    );
    await Promise.all(commits);
    crashPoint('wal.checkpointed');
    await this.log.release(rotated.index);
    this.unfinished = null;
  }
}
