import { BadOffsetError, CorruptChunkError } from '../../errors.js';
import { appendSums, BLOCK_BYTES, BlockChecker, boundaryBlocks, describeMismatch, spliceSums, type Mismatch } from '../checksums/block-sums.js';
import type { ChunkRecord } from '../chunks/records.js';
import type { ChunkTable } from '../chunks/table.js';
import { nextVersion } from '../chunks/types.js';
import type { CorruptChunks } from '../integrity/corrupt-chunks.js';
import { crashPoint } from '../io/crash-points.js';
import { chargeDelta } from '../space/charges.js';
import type { Reservation } from '../space/space-account.js';
import type { VersionInstaller } from './version-installer.js';
import { packEntry, type AppendEntry } from '../wal/entry.js';
import { frameOf } from '../wal/frame.js';
import type { LogRoom, WriteAheadLog } from '../wal/writer.js';

// A log entry's bytes beside its data: the frame header, the field names, the two identity
// numbers as strings, a few sums. An upper bound, held as room before the record exists.
const ENTRY_OVERHEAD_BYTES = 512;

/**
 * Changes chunks in place (append_chunk, commit_append): only the new bytes are written,
 * whatever the chunk's size; an append reads nothing back (its tail block's sum is extended
 * from the recorded one), an overwrite reads the boundary blocks it changes in part.
 * - append up to the log's record size: the bytes go at the committed end (not flushed),
 *   then a log entry (bytes and new record) is made durable with the group commit of the
 *   write-ahead log: one shared fdatasync acknowledges it. The metadata store learns the
 *   record at the next checkpoint, or from replay after a crash.
 * - larger append: the bytes go at the committed end, fdatasync, record committed; a crash
 *   before the commit leaves bytes past the committed length, cut at start-up.
 * - overwrite below the end: redo record committed first, bytes in place, fdatasync, then
 *   record + redo removal in one commit; replayed at start-up.
 */
export class ChunkAppender {
  constructor(
    private readonly table: ChunkTable,
    private readonly installer: VersionInstaller,
    private readonly corrupt: CorruptChunks,
    /** null: every append flushes its own data and record (no log). */
    private readonly wal: WriteAheadLog | null,
  ) {}

  /**
   * Appends `data` at the chunk's committed end (creating the chunk if missing): the bytes
   * go into the chunk file in place, then one record commit publishes the new length, the
   * touched blocks' sums and the new version. Cost: one write and the record, whatever
   * the chunk's size. The tail block is not read back: its sum is extended from the recorded
   * one (appendSums), so damage in it stays visible to the next retrieve and the scrubber.
   * With `at`, a copy that does not end there is refused (bad_offset) and left as it is:
   * judged under the lock, so no other change slips in between the check and the append.
   */
  append(chunkId: string, data: Buffer, version?: number, at?: number): Promise<{ offset: number; size: number; version: number }> {
    return this.withLogRoom(chunkId, data.length, undefined, (room) => this.table.withChunkLock(chunkId, async () => {
      const old = this.table.sizeOf(chunkId);
      const offset = old ?? 0;
      if (at !== undefined && at !== offset) throw new BadOffsetError(offset);
      const reservation = this.table.space.reserve(chargeDelta(old, offset + data.length));
      try {
        const v = await this.appendReservedLocked(chunkId, data, reservation, version, undefined, room);
        return { offset, size: offset + data.length, version: v };
      } finally {
        reservation.release();
      }
    }));
  }

  /**
   * record_append on the primary (GFS 3.3): the offset is the committed end, picked under the
   * chunk's lock. A record that does not fit below `capacity` is not written: the chunk is
   * padded with zero bytes to `capacity` instead (`padded`; `data` is then the padding, for the
   * other holders). The padding is shorter than the record, so the log room taken for the
   * record covers either. `partial` (a byte stream, not records): the part that fits is
   * written instead of padding, and `data` is that part.
   */
  appendRecord(chunkId: string, record: Buffer, capacity: number, partial = false): Promise<{ offset: number; size: number; version: number; data: Buffer; padded: boolean }> {
    return this.withLogRoom(chunkId, record.length, undefined, (room) => this.table.withChunkLock(chunkId, async () => {
      const old = this.table.sizeOf(chunkId);
      const offset = old ?? 0;
      const left = Math.max(0, capacity - offset);
      const fits = record.length <= left || (partial && left > 0);
      const data = record.length <= left ? record : partial && left > 0 ? record.subarray(0, left) : Buffer.alloc(left);
      if (data.length === 0) return { offset, size: offset, version: this.table.versionOf(chunkId), data, padded: true };
      const reservation = this.table.space.reserve(chargeDelta(old, offset + data.length));
      try {
        const version = await this.appendReservedLocked(chunkId, data, reservation, undefined, undefined, room);
        return { offset, size: offset + data.length, version, data, padded: !fits };
      } finally {
        reservation.release();
      }
    }));
  }

  /**
   * commit_append of a prepared record: applies `data` at `offset` if the chunk is still the
   * version the record was prepared on (else null: conflict). The transaction's reservation
   * is settled by a commit and left to it otherwise. Returns the bytes the chunk had
   * before, and its new version.
   */
  commitPreparedAppend(
    chunkId: string,
    tx: { offset: number; data: Buffer; baseVersion: number; reservation: Reservation; transactionId: string },
  ): Promise<{ replacedBytes: number; version: number } | null> {
    return this.withLogRoom(chunkId, tx.data.length, tx.transactionId, (room) => this.table.withChunkLock(chunkId, async () => {
      const old = this.table.get(chunkId);
      if (this.table.versionOf(chunkId) !== tx.baseVersion) return null;
      const replacedBytes = old?.size ?? 0;
      let version: number;
      if (!old || tx.offset === old.size) version = await this.appendReservedLocked(chunkId, tx.data, tx.reservation, undefined, tx.transactionId, room);
      else version = await this.overwriteLocked(chunkId, old, tx.offset, tx.data, tx.reservation, undefined, tx.transactionId);
      return { replacedBytes, version };
    }));
  }

  /**
   * Room in the log for an append of `bytes`, taken before the chunk lock (a full log waits
   * for a checkpoint, which takes chunk locks) and given back if the append does not use it.
   * Appends larger than the log's records get none and flush on their own.
   */
  private async withLogRoom<T>(chunkId: string, bytes: number, lastTx: string | undefined, work: (room: LogRoom | null) => Promise<T>): Promise<T> {
    if (!this.wal || bytes > this.wal.maxRecordBytes) return work(null);
    const room = await this.wal.room(bytes + chunkId.length + (lastTx?.length ?? 0) + ENTRY_OVERHEAD_BYTES);
    try {
      return await work(room);
    } finally {
      room.release();
    }
  }

  /** Caller holds the lock and a reservation for at least the growth; a commit settles it. */
  private async appendReservedLocked(chunkId: string, data: Buffer, reservation: Reservation, version: number | undefined, lastTx: string | undefined, room: LogRoom | null): Promise<number> {
    const old = this.table.get(chunkId);
    if (!old) return this.installer.writeWholeLocked(chunkId, data, reservation, version, lastTx);
    const after: ChunkRecord = { ...old, size: old.size + data.length, version: nextVersion(old, version), crcs: appendSums(old.crcs, old.size, data), lastTx };
    await this.table.commit(chunkId, after, reservation, async () => {
      if (room) {
        await this.table.files.writeInPlace(chunkId, old.size, data);
        crashPoint('append.written');
        await room.append(chunkId, frameOf(packEntry(entryOf(chunkId, old, after, data))));
      } else {
        await this.table.files.writeAt(chunkId, old.size, data, 'append.written', 'append.synced');
        await this.table.records.put(chunkId, after);
      }
      crashPoint('append.committed');
    });
    return after.version;
  }

  /**
   * Overwrite at `offset` below the committed end (the reference's prepare_append at an
   * offset), all or nothing: a redo record holding the bytes and the record-to-be is
   * committed first, then the bytes go in place, then the record and the redo removal
   * commit together. A crash in between is finished by start-up replaying the redo.
   */
  private async overwriteLocked(chunkId: string, old: ChunkRecord, offset: number, data: Buffer, reservation: Reservation, version: number | undefined, lastTx?: string): Promise<number> {
    const size = Math.max(old.size, offset + data.length);
    const boundary = await this.checkBoundaryLocked(chunkId, old, offset, data.length);
    const after: ChunkRecord = { ...old, size, version: nextVersion(old, version), crcs: spliceSums(old.crcs, old.size, offset, data, boundary), lastTx };
    await this.table.commit(chunkId, after, reservation, async () => {
      await this.table.records.logRedo({ chunkId, offset, data, after });
      crashPoint('redo.logged');
      await this.table.files.writeAt(chunkId, offset, data, 'redo.written', 'redo.written');
      await this.table.records.finishRedo(chunkId, after);
      crashPoint('redo.committed');
    });
    return after.version;
  }

  /**
   * The old blocks a write changes only in part keep some old bytes, whose sums go into the
   * new record: they are read and checked first, or damage in them would be blessed.
   */
  private async checkBoundaryLocked(chunkId: string, old: ChunkRecord, offset: number, length: number): Promise<Map<number, Buffer>> {
    const checker = new BlockChecker(old.crcs);
    const boundary = new Map<number, Buffer>();
    for (const block of boundaryBlocks(old.size, offset, length)) {
      const start = block * BLOCK_BYTES;
      const want = Math.min(BLOCK_BYTES, old.size - start);
      const bytes = await this.table.files.read(chunkId, start, want);
      const mismatch: Mismatch | null = bytes.length === want ? checker.check(bytes, start) : { kind: 'size', expected: old.size, actual: start + bytes.length };
      if (mismatch) {
        await this.corrupt.quarantineLocked(chunkId, 'append', describeMismatch(mismatch));
        throw new CorruptChunkError();
      }
      boundary.set(block, bytes);
    }
    return boundary;
  }
}

function entryOf(chunkId: string, old: ChunkRecord, after: ChunkRecord, data: Buffer): AppendEntry {
  const firstBlock = Math.floor(old.size / BLOCK_BYTES);
  return { chunkId, offset: old.size, data, baseVersion: old.version, version: after.version, firstBlock, tailCrcs: after.crcs.subarray(firstBlock), ino: old.ino, btimeNs: old.btimeNs, lastTx: after.lastTx };
}
