import { open, type Database, type RootDatabase } from 'lmdb';
import { ChunkNotFoundError, FileExistsError, FileNotFoundError } from '../../errors.js';
import type { FileMetadata } from '../../wire/file-metadata.js';
import { FailPointError, failsAt } from './fail-points.js';
import { withChunkLength, withChunkRecorded, renameInStore } from './chunk-changes.js';
import { clone, emptyFile, normalise } from './file-record.js';
import type { JournalRecord, JournalSink } from './journal-record.js';
import { readMetadataJson, writeMetadataJson } from './metadata-json.js';
import type { ChunkRecord, DecommissionRecord, MemberRecord } from './records.js';
import { applyEntry, journalPosition, JOURNAL_SEQ, loadSnapshot, takeSnapshot, type NamespaceSnapshot, type SnapshotStores } from './snapshot.js';

/**
 * Files are stored as recorded; get_file_metadata overlays the live holders from chunk
 * reports (chunk-map.ts).
 */
export type { FileMetadata };
export type { ChunkRecord, DecommissionRecord, MemberRecord };

// Files per transaction when importing a metadata.json.
const IMPORT_BATCH = 20_000;

/**
 * The file namespace in lmdb: `files` (path -> FileMetadata), `refs` (chunk_id -> paths that
 * list it, a dupSort index), `chunks` (chunk_id -> ChunkRecord), and beside it the master's
 * own state that must outlive it: `decommissions` (address -> DecommissionRecord) and
 * `servers` (address -> MemberRecord). A change touches only its
 * keys; puts made in one event turn share one transaction and one flush. Values written but
 * not yet committed are kept in `pending`, so a change reads the one before it.
 *
 * A refused write leaves no trace (issue 21): a change issues its puts before it touches
 * `pending`, so one the store refuses at once (lmdb throws on a key too long) changes
 * nothing, and one whose commit fails leaves `pending` when it settles, so reads fall back
 * to what is committed. The file count is derived from the store and `pending`, never kept
 * apart from them. A change made on top of a pending one that then fails carries it, as it
 * would had the first one committed: the store refuses for the disk, not for one change.
 */
export class Namespace {
  private readonly pending = new Map<string, FileMetadata | null>();
  /** Set with [master] etcd_endpoints: every change is durable there before it is applied here. */
  private journal: JournalSink | null = null;

  private constructor(
    private readonly env: RootDatabase,
    private readonly files: Database<FileMetadata, string>,
    private readonly refs: Database<string, string>,
    private readonly chunks: Database<ChunkRecord, string>,
    private readonly decommissions: Database<DecommissionRecord, string>,
    private readonly servers: Database<MemberRecord, string>,
    private readonly meta: Database<unknown, string>,
  ) {}

  /**
   * Opens (creating) the store in `dir`. The first start imports a reference-style
   * `metadata.json` when one exists at `jsonFile`, and leaves it in place.
   */
  static async open(dir: string, jsonFile: string | null): Promise<{ ns: Namespace; imported: number | null }> {
    const imported = jsonFile === null ? null : await readMetadataJson(jsonFile);
    const env = open({ path: dir, maxDbs: 8 });
    const ns = new Namespace(
      env,
      env.openDB<FileMetadata, string>({ name: 'files' }),
      env.openDB<string, string>({ name: 'refs', dupSort: true, encoding: 'ordered-binary' }),
      env.openDB<ChunkRecord, string>({ name: 'chunks' }),
      env.openDB<DecommissionRecord, string>({ name: 'decommissions' }),
      env.openDB<MemberRecord, string>({ name: 'servers' }),
      env.openDB<unknown, string>({ name: 'meta' }),
    );
    const meta = ns.meta;
    if (imported === null || meta.get('imported') !== undefined) return { ns, imported: null };
    const entries = Object.entries(imported);
    for (let i = 0; i < entries.length; i += IMPORT_BATCH) ns.importFiles(entries.slice(i, i + IMPORT_BATCH).map(([path, m]) => normalise(path, m)));
    await meta.put('imported', { from: jsonFile, at: Date.now() });
    return { ns, imported: entries.length };
  }

  /**
   * Writes whole files in one synchronous transaction (one flush for the batch): the import
   * of a metadata.json, and the master benchmark's bulk load. Each chunk's record takes the
   * file's offset for it, version 0 (not told).
   */
  importFiles(metas: readonly FileMetadata[]): void {
    this.env.transactionSync(() => {
      for (const meta of metas) {
        const old = this.get(meta.file_path);
        const before = new Set(old?.chunk_ids ?? []);
        const after = new Set(meta.chunk_ids);
        this.files.putSync(meta.file_path, meta);
        for (const id of before) if (!after.has(id)) this.refs.removeSync(id, meta.file_path);
        for (const id of after) {
          if (!before.has(id)) this.refs.putSync(id, meta.file_path);
          this.chunks.putSync(id, { length: meta.chunk_offsets[id] ?? 0, version: 0 });
        }
      }
    });
  }

  /** Files, with the changes not yet committed. */
  get size(): number {
    // The database's stat is O(1); getCount() walks every entry, which at a million files
    // costs a second and pulls the whole store into memory.
    let n = (this.files.getStats() as { entryCount: number }).entryCount;
    for (const [path, m] of this.pending) n += Number(m !== null) - Number(this.files.doesExist(path));
    return n;
  }

  get(filePath: string): FileMetadata | null {
    if (this.pending.has(filePath)) return this.pending.get(filePath)!;
    return this.files.get(filePath) ?? null;
  }

  list(): string[] {
    const out = [...this.files.getKeys()] as string[];
    for (const [path, m] of this.pending) {
      const i = out.indexOf(path);
      if (m === null && i >= 0) out.splice(i, 1);
      if (m !== null && i < 0) out.push(path);
    }
    return out;
  }

  chunk(chunkId: string): ChunkRecord | undefined {
    return this.chunks.get(chunkId);
  }

  /** Paths of the files that list the chunk (committed changes only). */
  filesOf(chunkId: string): string[] {
    return [...this.refs.getValues(chunkId)];
  }

  isReferenced(chunkId: string): boolean {
    return this.refs.doesExist(chunkId);
  }

  /** add_file: declares a file's chunks; offsets already known for kept chunks stay. */
  async addFile(filePath: string, totalSize: number, chunkIds: string[]): Promise<void> {
    const old = this.get(filePath);
    const meta = emptyFile(filePath);
    meta.total_size = totalSize;
    meta.chunk_ids = [...chunkIds];
    for (const id of chunkIds) {
      meta.chunk_offsets[id] = old?.chunk_offsets[id] ?? 0;
      if (old?.chunk_locations[id]) meta.chunk_locations[id] = old.chunk_locations[id];
    }
    meta.last_chunk_id = chunkIds.at(-1) ?? null;
    meta.last_chunk_offset = meta.last_chunk_id === null ? 0 : meta.chunk_offsets[meta.last_chunk_id]!;
    await this.write(filePath, meta, old);
  }

  /**
   * update_file_metadata: a primary stored `chunkId` of `chunkSize` bytes on `locations`.
   * A new chunk is appended to the file; a known one is replaced (its size counted once).
   * With `chunkIndex` (our chunk servers send it) a chunk whose bytes repeat an earlier one
   * of the same file, and so has the same sha256 id, still takes its own place in the file.
   */
  async recordChunk(filePath: string, chunkId: string, locations: string[], chunkSize: number, chunkIndex: number | null, version: number): Promise<void> {
    const old = this.get(filePath);
    const meta = withChunkRecorded(filePath, old, chunkId, locations, chunkSize, chunkIndex);
    const rec = { length: chunkSize, version };
    await Promise.all([this.write(filePath, meta, old), this.commit([() => this.chunks.put(chunkId, rec)], [{ t: 'chunk', id: chunkId, rec }])]);
  }

  /**
   * update_chunk_offset: false (and nothing changed) when the chunk already ends past
   * `offset`: appends never shrink a chunk, so that is the news of an earlier append arriving
   * after a later one's. Judged before any await, so two updates cannot both pass.
   */
  async setOffset(filePath: string, chunkId: string, offset: number, version: number): Promise<boolean> {
    const meta = this.get(filePath);
    if (!meta) throw new FileNotFoundError();
    if (!meta.chunk_ids.includes(chunkId)) throw new ChunkNotFoundError();
    if (offset < (meta.chunk_offsets[chunkId] ?? 0)) return false;
    await this.setLength(chunkId, offset, version, [filePath]);
    return true;
  }

  /** A chunk's committed length changed (an append, or reports that prove one). */
  async setLength(chunkId: string, length: number, version: number, alsoFiles: string[] = []): Promise<void> {
    const writes: Promise<unknown>[] = [];
    for (const path of new Set([...alsoFiles, ...this.filesOf(chunkId)])) {
      const old = this.get(path);
      if (!old || !old.chunk_ids.includes(chunkId)) continue;
      const meta = withChunkLength(old, chunkId, length);
      writes.push(this.write(path, meta, old));
    }
    const was = this.chunks.get(chunkId);
    const rec = { length, version: Math.max(version, was?.version ?? 0) };
    writes.push(this.commit([() => this.chunks.put(chunkId, rec)], [{ t: 'chunk', id: chunkId, rec }]));
    await Promise.all(writes);
  }

  /** Records the holders a repair made current (kept for export and for a restart before reports). */
  async setLocations(chunkId: string, locations: string[]): Promise<void> {
    const writes: Promise<unknown>[] = [];
    for (const path of this.filesOf(chunkId)) {
      const old = this.get(path);
      if (!old) continue;
      const meta = clone(old);
      meta.chunk_locations[chunkId] = locations;
      writes.push(this.write(path, meta, old));
    }
    await Promise.all(writes);
  }

  /** delete_file: the file leaves the namespace; returns the chunks it listed, or null for no such file. */
  async deleteFile(filePath: string): Promise<string[] | null> {
    const old = this.get(filePath);
    if (!old) return null;
    await this.write(filePath, null, old);
    return [...new Set(old.chunk_ids)];
  }

  /**
   * rename_file: the file takes its new name in one lmdb transaction (its record and every
   * index entry), so no reader, crash or restart sees both names or neither. The target
   * must be free; the check and the pending entries are set in one event turn, so two
   * renames onto one name cannot both pass.
   */
  async rename(from: string, to: string): Promise<void> {
    const old = this.get(from);
    if (!old) throw new FileNotFoundError();
    if (from === to || this.get(to)) throw new FileExistsError();
    const meta = { ...clone(old), file_path: to };
    this.pending.set(from, null);
    this.pending.set(to, meta);
    const ids = new Set(old.chunk_ids);
    await this.journaled([
      { t: 'file', path: from, meta: null },
      { t: 'file', path: to, meta },
    ])
      // The journal's position moves in the same lmdb transaction as the rename.
      .then((seq) => renameInStore({ env: this.env, files: this.files, refs: this.refs }, from, to, meta, ids, () => seq !== null && void this.meta.put(JOURNAL_SEQ, seq)))
      .finally(() => {
        if (this.pending.get(from) === null) this.pending.delete(from);
        if (this.pending.get(to) === meta) this.pending.delete(to);
      });
  }

  /** Forgets a chunk no file lists any more. */
  async forgetChunk(chunkId: string): Promise<void> {
    if (!this.isReferenced(chunkId)) await this.commit([() => this.chunks.remove(chunkId)], [{ t: 'chunk', id: chunkId, rec: null }]);
  }

  /** Servers being decommissioned, as recorded (decommission_server, not finished yet). */
  decommissioning(): string[] {
    return [...this.decommissions.getKeys()] as string[];
  }

  /** Records a decommission (journaled over etcd, so a new leader carries it on); resolves once durable, so an accepted command survives a crash. */
  async markDecommissioning(address: string): Promise<void> {
    const rec = { since: Date.now() };
    if (!this.decommissions.doesExist(address)) await this.commit([() => this.decommissions.put(address, rec)], [{ t: 'decommission', address, rec }]);
  }

  async clearDecommissioning(address: string): Promise<void> {
    await this.commit([() => this.decommissions.remove(address)], [{ t: 'decommission', address, rec: null }]);
  }

  /** Every chunk server recorded as known, until forgotten. */
  members(): Array<[string, MemberRecord]> {
    return [...this.servers.getRange()].map(({ key, value }) => [key, value]);
  }

  /** Resolves once durable. */
  async putMember(address: string, record: MemberRecord): Promise<void> {
    await this.servers.put(address, record);
  }

  async removeMember(address: string): Promise<void> {
    await this.servers.remove(address);
  }

  /** The reference's metadata.json layout: path -> FileMetadata, written to a temp file and renamed. */
  async exportJson(file: string): Promise<number> {
    return writeMetadataJson(file, this.files.getRange());
  }

  /** Resolves once every write issued so far is on disk. */
  async settled(): Promise<void> {
    await this.env.flushed;
  }

  async close(): Promise<void> {
    await this.env.flushed;
    await this.env.close();
  }

  /** Replaces (or with null removes) one file and its index entries; resolves once durable. */
  private write(path: string, meta: FileMetadata | null, old: FileMetadata | null): Promise<unknown> {
    const before = new Set(old?.chunk_ids ?? []);
    const after = new Set(meta?.chunk_ids ?? []);
    const ops: Array<() => Promise<unknown>> = [meta === null ? () => this.files.remove(path) : () => this.files.put(path, meta)];
    for (const id of before) if (!after.has(id)) ops.push(() => this.refs.remove(id, path));
    for (const id of after) if (!before.has(id)) ops.push(() => this.refs.put(id, path));
    const committed = this.commit(ops, [{ t: 'file', path, meta }]);
    this.pending.set(path, meta);
    return committed.finally(() => {
      if (this.pending.get(path) === meta) this.pending.delete(path);
    });
  }

  /**
   * Issues one change's puts and removes in one event turn, so they share a transaction
   * and one outcome. Armed, the fail point issues none and fails as a failed commit would.
   */
  private commit(ops: ReadonlyArray<() => Promise<unknown>>, records: readonly JournalRecord[]): Promise<unknown> {
    if (failsAt('namespace.commit')) return Promise.reject(new FailPointError('namespace.commit'));
    if (this.journal === null) return Promise.all(ops.map((op) => op()));
    // Issued together when the journal answers: changes of one etcd transaction share one lmdb one.
    return this.journaled(records).then((seq) => Promise.all([...ops.map((op) => op()), this.meta.put(JOURNAL_SEQ, seq)]));
  }

  /** The change's journal sequence number once it is durable there; null without a journal. */
  private journaled(records: readonly JournalRecord[]): Promise<number | null> {
    return this.journal === null ? Promise.resolve(null) : this.journal.append(records);
  }

  /** From now on every change goes to `journal` first ([master] etcd_endpoints). */
  useJournal(journal: JournalSink): void {
    this.journal = journal;
  }

  /** The last journal entry applied to this store; 0 before any. */
  journalSeq(): number {
    return journalPosition(this.stores());
  }

  /**
   * Applies a journal entry another master wrote (a standby tailing the leader, a new
   * leader catching up), with its sequence number, in one synchronous transaction.
   * Entries are whole values, so one applied twice changes nothing.
   */
  applyJournal(seq: number, records: readonly JournalRecord[]): void {
    applyEntry(this.stores(), seq, records);
  }

  /** The namespace as of the last journal entry applied (the leader's snapshot for etcd). */
  snapshot(): NamespaceSnapshot {
    return takeSnapshot(this.stores());
  }

  /** Replaces the namespace with a snapshot (a master behind the journal's compacted start). */
  loadSnapshot(snapshot: NamespaceSnapshot): void {
    loadSnapshot(this.stores(), snapshot);
  }

  private stores(): SnapshotStores {
    return { env: this.env, files: this.files, chunks: this.chunks, refs: this.refs, decommissions: this.decommissions, meta: this.meta };
  }
}
