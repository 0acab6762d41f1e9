import { open, type FileHandle } from 'node:fs/promises';
import { ChunkNotFoundError, CorruptChunkError } from '../../errors.js';
import type { BufferPool } from '../../wire/buffer-pool.js';
import type { FileBody } from '../../wire/payload.js';
import { BlockChecker, verifyFile, type ChunkSums, type Mismatch, type Pace } from '../checksums/block-sums.js';
import type { ChunkTable } from '../chunks/table.js';
import type { FoundBy } from '../chunks/types.js';
import { fileBodyOf } from '../io/file-body.js';
import type { CorruptChunks } from './corrupt-chunks.js';

/** What a checked read needs of the store. */
export interface ReadDeps {
  readonly table: ChunkTable;
  readonly corrupt: CorruptChunks;
  readonly pool: BufferPool;
}

/**
 * One version of a chunk opened for reading (retrieve, copies, scrub): committed bytes only,
 * each read checked against the sums of that version. Damage found is quarantined through
 * `condemn`, which knows a version replaced meanwhile from a damaged one.
 */
export class VerifiedChunk {
  private readonly checker: BlockChecker;

  constructor(
    readonly chunkId: string,
    readonly handle: FileHandle,
    /** The committed length when it was opened: nothing past it is read. */
    readonly size: number,
    readonly sums: ChunkSums,
    readonly version: number,
    private readonly deps: ReadDeps,
  ) {
    this.checker = new BlockChecker(sums.crcs);
  }

  /** A file shorter than its committed length lost acknowledged bytes: corruption too. Null when it is long enough. */
  async checkLength(): Promise<Mismatch | null> {
    const onDisk = Number((await this.handle.stat()).size);
    return onDisk < this.size ? { kind: 'size', expected: this.size, actual: onDisk } : null;
  }

  /** Checks `block`, read at `offset` (a block boundary) when `want` bytes were asked for; null when it matches. */
  check(block: Buffer, offset: number, want: number): Mismatch | null {
    return block.length !== want ? { kind: 'size', expected: this.size, actual: offset + block.length } : this.checker.check(block, offset);
  }

  /**
   * Whether a newer version than this one has been committed. Asked under the chunk lock,
   * so that an overwrite whose bytes are in place but not yet committed is waited for.
   */
  replaced(): Promise<boolean> {
    const { table } = this.deps;
    return table.withChunkLock(this.chunkId, async () => table.versionOf(this.chunkId) !== this.version);
  }

  /** Quarantines this version, unless it was replaced or changed meanwhile. */
  condemn(foundBy: FoundBy, mismatch: Mismatch): Promise<void> {
    return this.deps.corrupt.condemn(this, foundBy, mismatch);
  }

  /** Reads all of it against its sums; a mismatch quarantines it (CorruptChunkError). */
  async verifyAll(foundBy: FoundBy, pace?: Pace): Promise<void> {
    const mismatch = (await this.checkLength()) ?? (await verifyFile(this.handle, this.size, this.sums, this.deps.pool, pace));
    if (mismatch) {
      await this.condemn(foundBy, mismatch);
      throw new CorruptChunkError();
    }
  }

  /**
   * The committed bytes as a frame piece, read ahead through READ_AHEAD_BLOCKS pooled blocks
   * of READ_BLOCK_BYTES (never the whole chunk in memory), each checked against its sums
   * before it is handed on: a mismatch stops the stream, so the frame is cut short and the
   * receiver never takes damaged bytes. The handle stays this object's to close.
   */
  body(): FileBody {
    return fileBodyOf(this.handle, this.size, this.deps.pool, async () => undefined, {
      inspect: (block, offset, want) => {
        if (this.check(block, offset, want)) throw new Error('local copy does not match its checksums');
      },
    });
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

/** Opens a chunk's committed version with the sums of its bytes; nothing is read yet. */
export function openVerified(deps: ReadDeps, chunkId: string): Promise<VerifiedChunk> {
  const { table } = deps;
  return table.withChunkLock(chunkId, async () => {
    const record = table.get(chunkId);
    if (!record) throw new ChunkNotFoundError();
    let handle: FileHandle;
    try {
      handle = await open(table.files.path(chunkId), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ChunkNotFoundError();
      throw err;
    }
    const identity = { ino: record.ino, btimeNs: record.btimeNs };
    return new VerifiedChunk(chunkId, handle, record.size, { size: record.size, crcs: record.crcs, identity }, record.version, deps);
  });
}
