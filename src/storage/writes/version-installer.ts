import { open, readFile, stat, unlink } from 'node:fs/promises';
import type { BufferPool } from '../../wire/buffer-pool.js';
import type { FrameHead, Payload, SpillProvider } from '../../wire/payload.js';
import { isSafeId } from '../../safe-name.js';
import { identityOf, sameIdentity, sumsOfFile } from '../checksums/block-sums.js';
import { decodeSums } from '../checksums/sums-file.js';
import type { WrittenFile } from '../chunks/files.js';
import type { ChunkRecord } from '../chunks/records.js';
import type { ChunkTable } from '../chunks/table.js';
import { nextVersion, type NewVersion } from '../chunks/types.js';
import type { CorruptChunks } from '../integrity/corrupt-chunks.js';
import { crashPoint } from '../io/crash-points.js';
import { chargeDelta } from '../space/charges.js';
import { GrowingReservation, type Reservation } from '../space/space-account.js';
import type { LogRoom } from '../wal/writer.js';
import type { LoggedStores } from './logged-store.js';
import { StagedFile } from './staged-file.js';

/**
 * Replaces chunks whole (store, commit_chunk, v1 prepared appends): every new version is a
 * complete, fsynced file renamed over the chunk before its record is committed, so a reader
 * sees the old version or the new one, never a mix.
 */
export class VersionInstaller {
  constructor(
    private readonly table: ChunkTable,
    private readonly corrupt: CorruptChunks,
    private readonly pool: BufferPool,
    /** How long a whole value short of room waits in line for it (SpaceAccount's rule). */
    private readonly spaceWaitMs: number,
    /** Small stores acknowledged through the write-ahead log (null: no log). */
    private readonly logged: LoggedStores | null = null,
  ) {}

  /** `spaceWaitMs`: how long a staged file may wait in line for room (SpaceAccount's rule). */
  spillProvider(pool: BufferPool, spaceWaitMs: number): SpillProvider {
    const { files, space } = this.table;
    // Nothing is reserved here: the staged file reserves as the bytes arrive. It is refused
    // at once only when its bytes could never fit; room others hold may yet come back.
    return {
      open: (size, head) => {
        const chunkId = largeStoreOf(size, head);
        if (chunkId === null) return new StagedFile(files.tempPath(), size, space, pool, spaceWaitMs);
        const { name, path } = files.newTagged(chunkId);
        return new StagedFile(path, size, space, pool, spaceWaitMs, { chunkId, name }, () => files.syncDir());
      },
    };
  }

  /**
   * Stores `data` as chunk `chunkId`, replacing any previous version; durable on return;
   * returns the new version. The caller holds the chunk lock; with `room` (taken before it,
   * LoggedStores.withRoom) a small store goes through the log.
   */
  async writeLocked(chunkId: string, data: Payload, version: number | undefined, room: LogRoom | null = null): Promise<number> {
    if (!Buffer.isBuffer(data)) {
      if (!(data instanceof StagedFile)) throw new TypeError('staged data from another store');
      return this.installStagedLocked(chunkId, data, version);
    }
    // An overwrite is charged only for growth: the old file goes when the rename lands. A
    // value small enough to arrive whole (not staged) takes its place in the same line as
    // the staged ones (issue 22 item 5): refused at once only when it could never fit.
    const need = chargeDelta(this.table.sizeOf(chunkId), data.length);
    const reservation = need > 0 ? this.table.space.reserveGrowing(need, this.spaceWaitMs) : this.table.space.reserve(need);
    try {
      if (reservation instanceof GrowingReservation) await reservation.growWhenRoom(need);
      // Not over a version living in a tagged file (a large store's): the flushed way removes
      // that file once its record is replaced; the logged way would leave it behind.
      if (room && this.logged && this.table.get(chunkId)?.file === undefined) return await this.logged.storeLocked(chunkId, data, reservation, version, room);
      return await this.writeWholeLocked(chunkId, data, reservation, version);
    } finally {
      reservation.release();
    }
  }

  /** Caller holds the chunk lock and a reservation for the new version, which a commit settles. */
  async writeWholeLocked(chunkId: string, data: Buffer, reservation: Reservation, version: number | undefined, lastTx?: string): Promise<number> {
    const files = this.table.files;
    const temp = files.tempPath();
    let written: WrittenFile;
    try {
      written = await files.writeNew(temp, data);
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      throw err;
    }
    crashPoint('store.data-synced');
    return this.installLocked(chunkId, temp, { size: data.length, ...written }, reservation, version, null, undefined, lastTx);
  }

  private async installStagedLocked(chunkId: string, staged: StagedFile, version: number | undefined): Promise<number> {
    if (staged.tagged?.chunkId === chunkId) return this.publishTaggedLocked(chunkId, staged, staged.tagged.name, version);
    await staged.seal(this.table.files.fsync);
    const written = await this.sumsOfStaged(staged);
    crashPoint('store.data-synced');
    return this.installLocked(chunkId, staged.path, { size: staged.size, ...written }, staged.reservation, version, null, () => staged.adopted());
  }

  /**
   * A large store (issue 22 item 2): its bytes are already in the tagged file where the new
   * version lives. One data flush (with the shared directory fsync begun at its creation),
   * then one metadata commit, which lmdb shares with the commits queued meanwhile: the record
   * naming the file is the publish point. Until it is durable the old version is the chunk;
   * a crash before leaves an unnamed file, removed at start-up. The old version's file goes
   * only after the publish; a crash between leaves it unnamed, removed at start-up too.
   */
  private async publishTaggedLocked(chunkId: string, staged: StagedFile, name: string, version: number | undefined): Promise<number> {
    const { files, records } = this.table;
    await staged.seal(files.fsync);
    const written = await this.sumsOfStaged(staged);
    crashPoint('store.data-synced');
    const old = this.table.get(chunkId);
    const oldPath = old ? files.path(chunkId) : null;
    const replaced = old && old.file === undefined ? { ino: old.ino, btimeNs: old.btimeNs } : undefined;
    const after: ChunkRecord = { size: staged.size, version: nextVersion(old, version), crcs: written.crcs, ino: written.identity.ino, btimeNs: written.identity.btimeNs, file: name, replaced };
    await this.table.commit(chunkId, after, staged.reservation, async () => {
      await records.put(chunkId, after);
      crashPoint('store.published');
    });
    staged.adopted();
    if (oldPath !== null) await unlink(oldPath).catch(() => undefined);
    crashPoint('store.old-removed');
    if (this.corrupt.has(chunkId)) await this.corrupt.acknowledge([chunkId]);
    return after.version;
  }

  private async sumsOfStaged(staged: StagedFile): Promise<WrittenFile> {
    const handle = await open(staged.path, 'r');
    try {
      const identity = identityOf(await handle.stat({ bigint: true }));
      return { identity, crcs: await sumsOfFile(handle, staged.size, this.pool) };
    } finally {
      await handle.close();
    }
  }

  /**
   * Commits a prepared whole version (prepare_chunk, or a v1 prepared append) as the chunk.
   * Its sums file was made for its data (checked at start-up).
   */
  async installPreparedLocked(chunkId: string, src: NewVersion, size: number, reservation: Reservation, syncSrcDir: () => Promise<void>, lastTx?: string): Promise<number> {
    const decoded = decodeSums(await readFile(src.sums));
    const st = await stat(src.data, { bigint: true });
    if (decoded.kind !== 'ok' || !sameIdentity(decoded.sums.identity, identityOf(st)) || decoded.sums.size !== size) throw new Error('prepared checksums do not match their data');
    const version = await this.installLocked(chunkId, src.data, { size, crcs: decoded.sums.crcs, identity: identityOf(st) }, reservation, undefined, syncSrcDir, undefined, lastTx);
    await unlink(src.sums).catch(() => undefined);
    return version;
  }

  /**
   * The way a chunk is replaced whole: `from` (complete, fsynced) is renamed over the chunk,
   * the directory fsynced, then the record committed. A crash between rename and commit
   * leaves the new file under a record naming the old inode: start-up computes its sums
   * and gives it the next version (the store was never acknowledged). Once the rename
   * lands, `reservation` is settled: the account holds the new size in place of the old.
   */
  private async installLocked(
    chunkId: string,
    from: string,
    built: WrittenFile & { size: number },
    reservation: Reservation,
    version: number | undefined,
    syncSrcDir: (() => Promise<void>) | null,
    adopted?: () => void,
    lastTx?: string,
  ): Promise<number> {
    const { files, records } = this.table;
    try {
      await files.install(from, chunkId);
    } catch (err) {
      if (syncSrcDir === null && !adopted) await unlink(from).catch(() => undefined);
      throw err;
    }
    adopted?.();
    crashPoint('store.renamed');
    const old = this.table.get(chunkId);
    // A tagged file of the old version is not renamed over: it goes once the commit is durable.
    const oldTagged = old?.file === undefined ? null : files.path(chunkId);
    const after: ChunkRecord = { size: built.size, version: nextVersion(old, version), crcs: built.crcs, ino: built.identity.ino, btimeNs: built.identity.btimeNs, lastTx };
    await this.table.commit(
      chunkId,
      after,
      reservation,
      async () => {
        await Promise.all([files.syncDir(), syncSrcDir?.()]);
        await records.put(chunkId, after);
        crashPoint('store.committed');
        if (this.corrupt.has(chunkId)) await this.corrupt.acknowledge([chunkId]);
      },
      true,
    );
    if (oldTagged !== null) await unlink(oldTagged).catch(() => undefined);
    return after.version;
  }
}

/** Values above this, of a store frame naming its chunk first, are written where their version lives (publishTaggedLocked). */
export const LARGE_STORE_BYTES = 256 * 1024;

/** The chunk a spilled value of `size` bytes is a large store into, when its frame said so before the value. */
function largeStoreOf(size: number, head: FrameHead | undefined): string | null {
  if (size <= LARGE_STORE_BYTES || head?.text('command') !== 'store_chunk') return null;
  const chunkId = head.text('chunk_id');
  return chunkId !== undefined && isSafeId(chunkId) ? chunkId : null;
}
