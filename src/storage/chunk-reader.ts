import { open, type FileHandle } from 'node:fs/promises';
import { ChunkNotFoundError, CorruptChunkError } from '../errors.js';
import type { BufferPool } from '../wire/buffer-pool.js';
import { verifyFile, type Mismatch, type Pace } from './checksums.js';
import type { ChunkTable } from './chunk-table.js';
import type { ChunkFile, FoundBy } from './chunk-types.js';
import type { CorruptChunks } from './corrupt-chunks.js';

/** The read path (retrieve, replication, scrub): committed bytes only, checked against their sums. */
export class ChunkReader {
  constructor(
    private readonly table: ChunkTable,
    private readonly corrupt: CorruptChunks,
    private readonly pool: BufferPool,
  ) {}

  /** Opens a chunk for reading with the sums of its committed bytes; nothing is read yet. */
  openForRead(chunkId: string): Promise<ChunkFile> {
    return this.table.withChunkLock(chunkId, async () => {
      const record = this.table.get(chunkId);
      if (!record) throw new ChunkNotFoundError();
      let handle: FileHandle;
      try {
        handle = await open(this.table.files.path(chunkId), 'r');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ChunkNotFoundError();
        throw err;
      }
      const identity = { ino: record.ino, btimeNs: record.btimeNs };
      return { chunkId, handle, size: record.size, sums: { size: record.size, crcs: record.crcs, identity }, version: record.version };
    });
  }

  /** Reads all of an opened chunk against its sums; a mismatch quarantines it (CorruptChunkError). */
  async verify(file: ChunkFile, foundBy: FoundBy, pace?: Pace): Promise<void> {
    // A file shorter than its committed length lost acknowledged bytes: corruption too.
    const onDisk = Number((await file.handle.stat()).size);
    const mismatch: Mismatch | null =
      onDisk < file.size ? { kind: 'size', expected: file.size, actual: onDisk } : await verifyFile(file.handle, file.size, file.sums, this.pool, pace);
    if (mismatch) {
      await this.corrupt.condemn(file, foundBy, mismatch);
      throw new CorruptChunkError();
    }
  }
}
