import { unlink } from 'node:fs/promises';
import type { Payload } from '../../wire/payload.js';
import { BLOCK_BYTES } from '../checksums/block-sums.js';
import type { ChunkTable } from '../chunks/table.js';
import { nextVersion } from '../chunks/types.js';
import type { CorruptChunks } from '../integrity/corrupt-chunks.js';
import { crashPoint } from '../io/crash-points.js';
import type { Reservation } from '../space/space-account.js';
import { packDelete, packStore } from '../wal/entry.js';
import { frameOf } from '../wal/frame.js';
import { recordOfStore, type StoreEntry } from '../wal/store-entry.js';
import type { LogRoom, WriteAheadLog } from '../wal/writer.js';

// A store record's bytes beside its data: frame header, field names, identities as strings.
const STORE_ENTRY_OVERHEAD_BYTES = 512;

/** The log room a store of `bytes` holds before its chunk lock: data, its sums and the fixed part. */
function storeEntryBytes(chunkId: string, bytes: number): number {
  return bytes + 4 * Math.ceil(bytes / BLOCK_BYTES) + chunkId.length + STORE_ENTRY_OVERHEAD_BYTES;
}

/**
 * Stores up to `maxBytes` (`[chunk_server] wal_store_max_kb`) acknowledged through the
 * write-ahead log (issue 22 item 1): the bytes go to a new file, not flushed; the whole
 * version is logged and made durable by the log's group commit (one fdatasync shared with
 * every store and append queued meanwhile); then the file is renamed over the chunk, not
 * flushed, and the record changed in memory. A read right after finds the new file where
 * every reader looks (no second read path through pending log entries). The checkpoint
 * flushes the file and the directory and commits the record; after a crash, replay
 * writes the file again from the log. The log's copy is not charged: the log is bounded
 * inside the disk margin (STORE_LOG_BYTES), so the space account stays the chunks' charges.
 */
export class LoggedStores {
  constructor(
    private readonly table: ChunkTable,
    private readonly corrupt: CorruptChunks,
    private readonly wal: WriteAheadLog,
    readonly maxBytes: number,
  ) {}

  takes(data: Payload): data is Buffer {
    return Buffer.isBuffer(data) && data.length <= this.maxBytes;
  }

  /**
   * Room in the log for the store, taken before the chunk lock (a full log waits for a
   * checkpoint, which takes chunk locks); `work` gets null when the store is not logged.
   */
  async withRoom<T>(chunkId: string, data: Payload, work: (room: LogRoom | null) => Promise<T>): Promise<T> {
    if (!this.takes(data)) return work(null);
    let room: LogRoom;
    try {
      room = await this.wal.room(storeEntryBytes(chunkId, data.length), true);
    } catch {
      // The log failed (a flush error): the flushed way needs none of it.
      return work(null);
    }
    try {
      return await work(room);
    } finally {
      room.release();
    }
  }

  /**
   * The chunk was just deleted, under its lock still held: if a store of it is in the log
   * only, a delete record follows it there, or replay would bring the chunk back.
   */
  async deletedLocked(chunkId: string): Promise<void> {
    if (this.wal.renamedUnflushed(chunkId)) await this.wal.appendTiny(chunkId, frameOf(packDelete(chunkId)));
  }

  /** Caller holds the chunk lock, `room`, and `reservation` for the new version, which the commit settles. */
  async storeLocked(chunkId: string, data: Buffer, reservation: Reservation, version: number | undefined, room: LogRoom): Promise<number> {
    const { files } = this.table;
    const old = this.table.get(chunkId);
    const temp = files.tempPath();
    let installed = false;
    try {
      const written = await files.writeNew(temp, data, false);
      const entry: StoreEntry = {
        kind: 'store',
        chunkId,
        data,
        base: old ? { version: old.version, identity: old } : null,
        version: nextVersion(old, version),
        crcs: written.crcs,
        identity: written.identity,
      };
      const frame = frameOf(packStore(entry));
      crashPoint('store.log-queued');
      await room.append(chunkId, frame);
      crashPoint('store.logged');
      await files.install(temp, chunkId);
      installed = true;
      crashPoint('store.installed');
      const after = recordOfStore(entry, written.identity);
      await this.table.commit(
        chunkId,
        after,
        reservation,
        async () => {
          if (this.corrupt.has(chunkId)) await this.corrupt.acknowledge([chunkId]);
        },
        true,
      );
      return after.version;
    } finally {
      if (!installed) await unlink(temp).catch(() => undefined);
    }
  }
}
