import { join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';

/**
 * What the server knows of one chunk, kept in memory and in the metadata store: the
 * committed length (readers never see a byte past it), the version, the CRC32 of each
 * 64 KiB block of the committed bytes, and the identity (inode, birth time) of the data
 * file the record describes, so a record that names another file is known to be stale.
 */
export interface ChunkRecord {
  readonly size: number;
  readonly version: number;
  readonly crcs: Uint32Array;
  readonly ino: bigint;
  readonly btimeNs: bigint;
  /** The prepared append last committed into the chunk: a restart tells its commit from a pending one. */
  readonly lastTx?: string | undefined;
  /**
   * The data file, when it is not the chunk id: a large store's tagged file (data-names.ts).
   * This record naming it is what publishes that version.
   */
  readonly file?: string | undefined;
  /**
   * With `file`: the plain file (inode, birth time) that version replaced. A plain file
   * found beside the tagged one at start-up is that old version when it is this one, and
   * else a version renamed in after it whose commit a crash cut short.
   */
  readonly replaced?: { readonly ino: bigint; readonly btimeNs: bigint } | undefined;
}

/** An overwrite inside a chunk, logged before its bytes go in place; replayed at start-up. */
export interface RedoRecord {
  readonly chunkId: string;
  readonly offset: number;
  readonly data: Buffer;
  /** The record the chunk has once the bytes are in place. */
  readonly after: ChunkRecord;
}

interface StoredRecord {
  s: number;
  v: number;
  c: Uint8Array;
  i: string;
  b: string;
  t?: string;
  f?: string;
  ri?: string;
  rb?: string;
}

interface StoredRedo {
  o: number;
  d: Uint8Array;
  r: StoredRecord;
}

// The chunk directory's own folder: records, write-ahead log, scrub mark.
export const META_DIR = '.meta';

// `<chunk dir>/.meta/chunks.mdb` (+ `-lock`): a dot-folder, so never taken for a chunk.
export const RECORDS_FILE = 'chunks.mdb';

function encode(r: ChunkRecord): StoredRecord {
  return { s: r.size, v: r.version, c: Buffer.from(r.crcs.buffer, r.crcs.byteOffset, r.crcs.byteLength), i: r.ino.toString(), b: r.btimeNs.toString(), ...(r.lastTx ? { t: r.lastTx } : {}), ...(r.file ? { f: r.file } : {}), ...(r.replaced ? { ri: r.replaced.ino.toString(), rb: r.replaced.btimeNs.toString() } : {}) };
}

function decode(s: StoredRecord): ChunkRecord {
  // Copied: a Uint32Array needs 4-byte alignment, which a decoded Buffer need not have.
  const crcs = new Uint32Array(s.c.byteLength / 4);
  Buffer.from(crcs.buffer).set(s.c);
  return { size: s.s, version: s.v, crcs, ino: BigInt(s.i), btimeNs: BigInt(s.b), lastTx: s.t, ...(s.f ? { file: s.f } : {}), ...(s.ri && s.rb ? { replaced: { ino: BigInt(s.ri), btimeNs: BigInt(s.rb) } } : {}) };
}

/**
 * The one metadata store of a chunk directory (lmdb, opened once per directory). Every
 * write is one lmdb transaction, flushed before its promise resolves; writes issued in the
 * same turn of the event loop share one transaction and one flush, so concurrent commits
 * cost one fsync between them.
 */
export class ChunkRecords {
  private constructor(
    private readonly root: RootDatabase,
    private readonly chunks: Database<StoredRecord, string>,
    private readonly redo: Database<StoredRedo, string>,
  ) {}

  static open(metaDir: string): ChunkRecords {
    // overlappingSync off: each commit is flushed before its promise resolves, in one step
    // (measured here: 7.8 ms against 12.7 ms per lone put with it on, under load).
    const root = open({ path: join(metaDir, RECORDS_FILE), maxDbs: 4, compression: false, noSubdir: true, overlappingSync: false });
    return new ChunkRecords(root, root.openDB<StoredRecord, string>({ name: 'chunks' }), root.openDB<StoredRedo, string>({ name: 'redo' }));
  }

  all(): Map<string, ChunkRecord> {
    const out = new Map<string, ChunkRecord>();
    for (const { key, value } of this.chunks.getRange()) out.set(key, decode(value));
    return out;
  }

  redos(): RedoRecord[] {
    return [...this.redo.getRange()].map(({ key, value }) => ({ chunkId: key, offset: value.o, data: Buffer.from(value.d), after: decode(value.r) }));
  }

  async put(chunkId: string, record: ChunkRecord): Promise<void> {
    await this.chunks.put(chunkId, encode(record));
  }

  /** Many records in one transaction (start-up). */
  async putMany(records: Iterable<[string, ChunkRecord]>, removed: Iterable<string> = []): Promise<void> {
    await this.root.transaction(() => {
      for (const [id, r] of records) void this.chunks.put(id, encode(r));
      for (const id of removed) void this.chunks.remove(id);
    });
  }

  async remove(chunkId: string): Promise<void> {
    await this.chunks.remove(chunkId);
  }

  async logRedo(r: RedoRecord): Promise<void> {
    await this.redo.put(r.chunkId, { o: r.offset, d: r.data, r: encode(r.after) });
  }

  /** The overwrite is in place: its record becomes the chunk's and the redo entry goes, atomically. */
  async finishRedo(chunkId: string, after: ChunkRecord): Promise<void> {
    await this.root.transaction(() => {
      void this.chunks.put(chunkId, encode(after));
      void this.redo.remove(chunkId);
    });
  }

  async dropRedo(chunkId: string): Promise<void> {
    await this.redo.remove(chunkId);
  }

  async close(): Promise<void> {
    await this.root.close();
  }
}
