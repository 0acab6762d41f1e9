import { open, type FileHandle } from 'node:fs/promises';

/**
 * Chunk files kept open at most (issue 22 item 3). An append to an open file is one write;
 * reopening costs an open and a close, two thread-pool round trips, on every append. 64
 * covers the appenders a server sees at once in practice (the bench's 8 on 8 chunks, a
 * record-append workload's few hot chunks) with room, and keeps the server's descriptors
 * far below a default `ulimit -n` of 1024 beside its connections (`max_connections`) and
 * lmdb's. A workload cycling through more chunks than this pays today's open and close.
 */
export const OPEN_CHUNK_FILES_MAX = 64;

interface Entry {
  readonly opened: Promise<FileHandle>;
  /** Callers inside `use` right now: an entry in use is never closed under them. */
  users: number;
  /** Out of the cache: closed as soon as its last user leaves. */
  retired: boolean;
}

/**
 * Open read-write handles of files by key, least recently used closed first. Whoever
 * renames over, moves or removes a file calls `forget` first, so no handle ever outlives
 * the file it was opened on and writes to an inode that is no longer the chunk.
 */
export class HandleCache {
  /** In order of last use, oldest first (a Map iterates in insertion order). */
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly pathOf: (key: string) => string,
    private readonly max: number = OPEN_CHUNK_FILES_MAX,
  ) {}

  /** How many handles are open or opening (for tests and metrics). */
  get size(): number {
    return this.entries.size;
  }

  /** Runs `work` on the key's open handle, opening it (`r+`) if not cached; open's errors (ENOENT) reach the caller. */
  async use<T>(key: string, work: (fh: FileHandle) => Promise<T>): Promise<T> {
    let entry = this.entries.get(key);
    if (entry) this.entries.delete(key);
    else {
      const created: Entry = { opened: open(this.pathOf(key), 'r+'), users: 0, retired: false };
      created.opened.catch(() => {
        if (this.entries.get(key) === created) this.entries.delete(key);
        created.retired = true;
      });
      entry = created;
    }
    this.entries.set(key, entry);
    entry.users++;
    this.trim();
    try {
      return await work(await entry.opened);
    } finally {
      entry.users--;
      if (entry.retired && entry.users === 0) await closeEntry(entry);
      this.trim();
    }
  }

  /** Closes the key's handle (the file is about to be renamed over, moved or removed); one in use closes when its user leaves. */
  async forget(key: string): Promise<void> {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    entry.retired = true;
    if (entry.users === 0) await closeEntry(entry);
  }

  /** Closes every handle not in use, and the others as their users leave (shutdown). */
  async close(): Promise<void> {
    await Promise.all([...this.entries.keys()].map((key) => this.forget(key)));
  }

  private trim(): void {
    if (this.entries.size <= this.max) return;
    for (const [key, entry] of this.entries) {
      if (this.entries.size <= this.max) return;
      if (entry.users > 0) continue;
      this.entries.delete(key);
      entry.retired = true;
      void closeEntry(entry);
    }
  }
}

async function closeEntry(entry: Entry): Promise<void> {
  const fh = await entry.opened.catch(() => null);
  await fh?.close().catch(() => undefined);
}
