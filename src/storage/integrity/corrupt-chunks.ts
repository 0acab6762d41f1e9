import type { Logger } from 'pino';
import { describeMismatch, type Mismatch } from '../checksums/block-sums.js';
import type { ChunkTable } from '../chunks/table.js';
import type { FoundBy } from '../chunks/types.js';
import type { Quarantine } from './quarantine.js';

/**
 * Takes damaged chunks out of service: a chunk found corrupt leaves the table (so it is
 * never served again) and waits in the quarantine until the master has been told of it.
 */
export class CorruptChunks {
  constructor(
    private readonly table: ChunkTable,
    private readonly quarantine: Quarantine,
    private readonly log: Logger,
  ) {}

  get pending(): string[] {
    return this.quarantine.pending;
  }

  has(chunkId: string): boolean {
    return this.quarantine.has(chunkId);
  }

  async acknowledge(chunkIds: Iterable<string>): Promise<void> {
    try {
      await this.quarantine.acknowledge(chunkIds);
    } catch (err) {
      this.log.warn({ err }, 'cannot mark corrupt chunks as reported; they will be reported again after a restart');
    }
  }

  /** Quarantines the version found damaged, unless it was replaced or changed meanwhile. */
  condemn(file: { chunkId: string; version: number }, foundBy: FoundBy, mismatch: Mismatch): Promise<void> {
    return this.table.withChunkLock(file.chunkId, async () => {
      if (this.table.versionOf(file.chunkId) !== file.version) {
        this.log.warn({ chunk_id: file.chunkId, found_by: foundBy, mismatch: describeMismatch(mismatch) }, 'corrupt version of a chunk was already replaced');
        return;
      }
      await this.quarantineLocked(file.chunkId, foundBy, describeMismatch(mismatch));
    });
  }

  /** Moves the chunk to `.quarantine/`, drops its record, frees its space. Never throws. */
  async quarantineLocked(chunkId: string, foundBy: FoundBy, reason: string): Promise<void> {
    const size = this.table.sizeOf(chunkId);
    // The sums go with the chunk, for an operator to compare (v1 kept a data.crc file).
    const blockCrcs = [...(this.table.get(chunkId)?.crcs ?? [])];
    const entry = this.quarantine.newEntry(chunkId);
    let moveError: unknown = null;
    try {
      // Its open handle goes first: appends must not follow the file into quarantine.
      await this.table.files.forget(chunkId);
      await this.quarantine.admit(entry, chunkId, this.table.files.path(chunkId), null, { found_by: foundBy, reason, size, block_crcs: blockCrcs, detected_at: new Date().toISOString() });
    } catch (err) {
      moveError = err;
    }
    const moved = (await this.table.identityOf(chunkId).catch(() => undefined)) === null;
    if (moved) {
      const persist = (): Promise<void> =>
        this.table.records.remove(chunkId).catch((err: unknown) => this.log.warn({ err, chunk_id: chunkId }, 'cannot drop the record of a quarantined chunk; start-up drops it'));
      await this.table.commit(chunkId, null, null, persist, true);
    }
    this.log.error(
      { chunk_id: chunkId, found_by: foundBy, reason, bytes: size, quarantined: moved, ...(moveError ? { err: moveError } : {}) },
      moved ? 'corrupt chunk moved to quarantine' : 'corrupt chunk could not be moved to quarantine',
    );
    this.quarantine.remember(chunkId, entry);
  }
}
