import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ChunkNotFoundError, MSG, RequestError } from '../errors.js';

/**
 * One file, with the reference's FileMetadata fields (clients read them by name), plus
 * `pending_replication`: chunk_id -> copies still missing.
 */
export interface FileMetadata {
  file_path: string;
  total_size: number;
  chunk_ids: string[];
  /** chunk_id -> "host:port" of every server known to hold it. */
  chunk_locations: Record<string, string[]>;
  /** chunk_id -> bytes written into the chunk (its end). */
  chunk_offsets: Record<string, number>;
  last_chunk_id: string | null;
  last_chunk_offset: number;
  pending_replication: Record<string, number>;
}

export interface PendingChunk {
  file_path: string;
  chunk_id: string;
  locations: string[];
  size: number;
}

/**
 * The file namespace, in memory, persisted as one JSON file (path -> FileMetadata, the
 * reference's metadata.json layout). Every change is written to a temp file, fsynced, and
 * renamed over the old one, then the directory is fsynced: a crash leaves the previous
 * version or the new one, never a torn file.
 */
export class MetadataStore {
  private writing: Promise<void> = Promise.resolve();
  private queued: Promise<void> | null = null;

  private constructor(
    readonly file: string,
    private readonly files: Map<string, FileMetadata>,
    private readonly replicationFactor: number,
  ) {}

  /** Loads the file if it exists. An unreadable or malformed file stops the start rather than being overwritten. */
  static async open(file: string, replicationFactor: number): Promise<MetadataStore> {
    const files = new Map<string, FileMetadata>();
    let text: string | null = null;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (text !== null) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (err) {
        throw new Error(`metadata file ${file} is not valid JSON (${(err as Error).message}); move it away to start empty`);
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`metadata file ${file} does not hold a map of files`);
      for (const [path, meta] of Object.entries(parsed as Record<string, Partial<FileMetadata>>)) files.set(path, normalise(path, meta));
    }
    return new MetadataStore(file, files, replicationFactor);
  }

  get size(): number {
    return this.files.size;
  }

  get(filePath: string): FileMetadata | null {
    return this.files.get(filePath) ?? null;
  }

  list(): string[] {
    return [...this.files.keys()];
  }

  /** add_file: declares a file's chunks; locations already known for kept chunks stay. */
  async addFile(filePath: string, totalSize: number, chunkIds: string[]): Promise<void> {
    const old = this.files.get(filePath);
    const meta = emptyFile(filePath);
    meta.total_size = totalSize;
    meta.chunk_ids = [...chunkIds];
    for (const id of chunkIds) {
      meta.chunk_offsets[id] = old?.chunk_offsets[id] ?? 0;
      if (old?.chunk_locations[id]) meta.chunk_locations[id] = old.chunk_locations[id];
      if (old?.pending_replication[id]) meta.pending_replication[id] = old.pending_replication[id];
    }
    meta.last_chunk_id = chunkIds.at(-1) ?? null;
    meta.last_chunk_offset = meta.last_chunk_id === null ? 0 : meta.chunk_offsets[meta.last_chunk_id]!;
    this.files.set(filePath, meta);
    await this.persist();
  }

  /**
   * update_file_metadata: a primary stored `chunkId` of `chunkSize` bytes on `locations`.
   * A new chunk is appended to the file; a known one is replaced (its size counted once).
   * With `chunkIndex` (our chunk servers send it) a chunk whose bytes repeat an earlier one
   * of the same file, and so has the same sha256 id, still takes its own place in the file.
   */
  async recordChunk(filePath: string, chunkId: string, locations: string[], chunkSize: number, chunkIndex: number | null = null): Promise<void> {
    let meta = this.files.get(filePath);
    if (!meta) this.files.set(filePath, (meta = emptyFile(filePath)));
    const repeat = chunkIndex !== null && chunkIndex === meta.chunk_ids.length && meta.chunk_ids.includes(chunkId);
    const known = !repeat && meta.chunk_ids.includes(chunkId);
    if (!known) meta.chunk_ids.push(chunkId);
    meta.total_size += known ? chunkSize - (meta.chunk_offsets[chunkId] ?? 0) : chunkSize;
    meta.chunk_offsets[chunkId] = chunkSize;
    meta.chunk_locations[chunkId] = [...new Set([...(repeat ? meta.chunk_locations[chunkId]! : []), ...locations])];
    if (!known || meta.last_chunk_id === chunkId) {
      meta.last_chunk_id = chunkId;
      meta.last_chunk_offset = chunkSize;
    }
    this.updatePending(meta, chunkId);
    await this.persist();
  }

  /** Re-replication made one more copy. */
  async addLocation(filePath: string, chunkId: string, address: string): Promise<void> {
    const meta = this.files.get(filePath);
    if (!meta) return;
    const locations = meta.chunk_locations[chunkId] ?? [];
    if (!locations.includes(address)) meta.chunk_locations[chunkId] = [...locations, address];
    this.updatePending(meta, chunkId);
    await this.persist();
  }

  /** A server lost its copy of `chunkId` (found corrupt): it is no longer a holder. Returns the files that listed it. */
  async dropLocation(chunkId: string, address: string): Promise<number> {
    let files = 0;
    for (const meta of this.files.values()) {
      const locations = meta.chunk_locations[chunkId];
      if (!locations?.includes(address)) continue;
      meta.chunk_locations[chunkId] = locations.filter((a) => a !== address);
      this.updatePending(meta, chunkId);
      files++;
    }
    if (files > 0) await this.persist();
    return files;
  }

  /** update_chunk_offset: the chunk now ends at `offset` (after an append). */
  async setOffset(filePath: string, chunkId: string, offset: number): Promise<void> {
    const meta = this.files.get(filePath);
    if (!meta) throw new RequestError(MSG.fileNotFound);
    if (!meta.chunk_ids.includes(chunkId)) throw new ChunkNotFoundError();
    meta.total_size += offset - (meta.chunk_offsets[chunkId] ?? 0);
    meta.chunk_offsets[chunkId] = offset;
    if (meta.last_chunk_id === chunkId) meta.last_chunk_offset = offset;
    await this.persist();
  }

  /** Chunks with fewer than replication_factor known holders, marked pending. */
  pending(): PendingChunk[] {
    const out: PendingChunk[] = [];
    for (const meta of this.files.values()) {
      for (const chunkId of Object.keys(meta.pending_replication)) {
        out.push({ file_path: meta.file_path, chunk_id: chunkId, locations: meta.chunk_locations[chunkId] ?? [], size: meta.chunk_offsets[chunkId] ?? 0 });
      }
    }
    return out;
  }

  private updatePending(meta: FileMetadata, chunkId: string): void {
    const missing = this.replicationFactor - (meta.chunk_locations[chunkId]?.length ?? 0);
    if (missing > 0) meta.pending_replication[chunkId] = missing;
    else delete meta.pending_replication[chunkId];
  }

  /**
   * Writes the current state. Calls made while a write is queued share it; a call made
   * while one is running gets the next, which snapshots the state when it starts.
   */
  persist(): Promise<void> {
    if (this.queued) return this.queued;
    const next = this.writing
      .catch(() => undefined)
      .then(() => {
        this.queued = null;
        return this.writeSnapshot();
      });
    this.queued = next;
    this.writing = next;
    return next;
  }

  private async writeSnapshot(): Promise<void> {
    const text = JSON.stringify(Object.fromEntries(this.files), null, 2);
    const dir = dirname(this.file);
    await mkdir(dir, { recursive: true });
    const temp = join(dir, `.${basename(this.file)}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      const fh = await open(temp, 'wx', 0o644);
      try {
        await fh.writeFile(text);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(temp, this.file);
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      throw err;
    }
    const dh = await open(dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  }
}

// Maps keyed by chunk id have no prototype: an id such as `__proto__` (a valid name) is
// then an ordinary key.
function dict<T>(from?: Record<string, T>): Record<string, T> {
  return Object.assign(Object.create(null) as Record<string, T>, from);
}

function emptyFile(filePath: string): FileMetadata {
  return {
    file_path: filePath,
    total_size: 0,
    chunk_ids: [],
    chunk_locations: dict(),
    chunk_offsets: dict(),
    last_chunk_id: null,
    last_chunk_offset: 0,
    pending_replication: dict(),
  };
}

/** Fills fields a file written by the reference master lacks (it has no pending_replication). */
function normalise(filePath: string, m: Partial<FileMetadata>): FileMetadata {
  return {
    ...emptyFile(filePath),
    ...m,
    chunk_locations: dict(m.chunk_locations),
    chunk_offsets: dict(m.chunk_offsets),
    pending_replication: dict(m.pending_replication),
    chunk_ids: [...(m.chunk_ids ?? [])],
  };
}
