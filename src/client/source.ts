// Where chunk bytes come from on upload and append: a range of a local file (read twice:
// once to hash, once to send, the second from the page cache), a Buffer, or a stream spooled
// into a scratch file one piece at a time. A chunk is never held in memory whole, except
// when the caller handed over a Buffer.
import { createHash } from 'node:crypto';
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { BufferPool } from '../wire/buffer-pool.js';
import type { FileBody } from '../wire/payload.js';

const BLOCK_BYTES = 1024 * 1024;

/** One piece of the input (a chunk, or what fits in the last chunk), sendable as often as needed. */
export interface ChunkPiece {
  readonly size: number;
  /** sha256 of the bytes, lowercase hex: the reference's id for a new chunk. */
  sha256(): Promise<string>;
  /** The bytes as a request field; `onSent` sees each block as it leaves. */
  body(onSent?: (bytes: number) => void): FileBody | Buffer;
  /** Frees what holds the bytes (a scratch file). */
  release(): Promise<void>;
}

/** Hands out the input in order, in pieces of at most `max` bytes; null at the end. */
export interface PieceReader {
  /** Total bytes when known in advance (a file or a Buffer). */
  readonly size: number | undefined;
  take(max: number): Promise<ChunkPiece | null>;
  close(): Promise<void>;
}

/** `size` bytes of `fh` from `start`, as a request piece; the handle stays open. */
export function rangeBody(fh: FileHandle, start: number, size: number, pool: BufferPool, onSent?: (bytes: number) => void): FileBody {
  return {
    kind: 'file',
    size,
    async pipe(sink) {
      const lease = pool.acquire(Math.min(BLOCK_BYTES, Math.max(size, 1)));
      try {
        for (let done = 0; done < size; ) {
          const want = Math.min(lease.buf.length, size - done);
          const { bytesRead } = await fh.read(lease.buf, 0, want, start + done);
          if (bytesRead !== want) throw new Error('local file shrank while being sent');
          await sink(lease.buf.subarray(0, want));
          done += want;
          onSent?.(want);
        }
      } finally {
        lease.release();
      }
    },
    async close() {},
  };
}

async function hashRange(fh: FileHandle, start: number, size: number, pool: BufferPool): Promise<string> {
  const hash = createHash('sha256');
  const lease = pool.acquire(Math.min(BLOCK_BYTES, Math.max(size, 1)));
  try {
    for (let done = 0; done < size; ) {
      const want = Math.min(lease.buf.length, size - done);
      const { bytesRead } = await fh.read(lease.buf, 0, want, start + done);
      if (bytesRead !== want) throw new Error('local file shrank while being read');
      hash.update(lease.buf.subarray(0, want));
      done += want;
    }
  } finally {
    lease.release();
  }
  return hash.digest('hex');
}

function filePiece(fh: FileHandle, start: number, size: number, pool: BufferPool, release: () => Promise<void> = async () => {}, knownId?: string): ChunkPiece {
  let id: Promise<string> | undefined = knownId === undefined ? undefined : Promise.resolve(knownId);
  return {
    size,
    sha256: () => (id ??= hashRange(fh, start, size, pool)),
    body: (onSent) => rangeBody(fh, start, size, pool, onSent),
    release,
  };
}

export class FileReader implements PieceReader {
  private pos = 0;
  private constructor(
    private readonly fh: FileHandle,
    readonly size: number,
    private readonly pool: BufferPool,
  ) {}

  /** Opens `path`; fails as fs does (ENOENT, EISDIR, EACCES). */
  static async open(path: string, pool: BufferPool): Promise<FileReader> {
    const fh = await open(path, 'r');
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw Object.assign(new Error(`${path} is not a regular file`), { code: 'EISDIR' });
      return new FileReader(fh, st.size, pool);
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  async take(max: number): Promise<ChunkPiece | null> {
    if (this.pos >= this.size) return null;
    const size = Math.min(max, this.size - this.pos);
    const piece = filePiece(this.fh, this.pos, size, this.pool);
    this.pos += size;
    return piece;
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

export class BufferReader implements PieceReader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}

  get size(): number {
    return this.buf.length;
  }

  async take(max: number): Promise<ChunkPiece | null> {
    if (this.pos >= this.buf.length) return null;
    const part = this.buf.subarray(this.pos, this.pos + max);
    this.pos += part.length;
    return {
      size: part.length,
      sha256: async () => createHash('sha256').update(part).digest('hex'),
      body: (onSent) => {
        onSent?.(part.length);
        return part;
      },
      release: async () => {},
    };
  }

  async close(): Promise<void> {}
}

/** Scratch files for spooled pieces, in one private temp directory removed by `dispose`. */
export class Scratch {
  private dir: Promise<string> | null = null;
  private seq = 0;

  async file(): Promise<{ path: string; fh: FileHandle }> {
    const dir = await (this.dir ??= mkdtemp(join(tmpdir(), 'gfs-')));
    const path = join(dir, String(this.seq++));
    return { path, fh: await open(path, 'w+', 0o600) };
  }

  async dispose(): Promise<void> {
    if (this.dir) await rm(await this.dir, { recursive: true, force: true });
  }
}

/**
 * A stream of unknown length: each piece is spooled to its own scratch file (hashed on the
 * way) before it is handed out, so the stream is read only as fast as pieces are taken.
 */
export class StreamReader implements PieceReader {
  readonly size = undefined;
  private readonly source: AsyncIterator<Buffer | string>;
  private rest: Buffer = Buffer.alloc(0);
  private ended = false;
  private turn: Promise<unknown> = Promise.resolve();

  constructor(
    input: Readable,
    private readonly pool: BufferPool,
    private readonly scratch: Scratch,
  ) {
    this.source = (input as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
  }

  take(max: number): Promise<ChunkPiece | null> {
    // One spool at a time: pieces come out in the stream's order.
    const next = this.turn.then(() => this.spool(max));
    this.turn = next.catch(() => undefined);
    return next;
  }

  private async spool(max: number): Promise<ChunkPiece | null> {
    let file: { path: string; fh: FileHandle } | null = null;
    const hash = createHash('sha256');
    let size = 0;
    try {
      while (size < max) {
        if (this.rest.length === 0) {
          if (this.ended) break;
          const r = await this.source.next();
          if (r.done) {
            this.ended = true;
            break;
          }
          this.rest = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
          continue;
        }
        file ??= await this.scratch.file();
        const part = this.rest.subarray(0, max - size);
        this.rest = this.rest.subarray(part.length);
        await file.fh.write(part, 0, part.length, size);
        hash.update(part);
        size += part.length;
      }
    } catch (err) {
      if (file) {
        const { fh, path } = file;
        await fh.close().then(() => rm(path, { force: true }));
      }
      throw err;
    }
    if (!file) return null;
    const { fh, path } = file;
    return filePiece(fh, 0, size, this.pool, () => fh.close().then(() => rm(path, { force: true })), hash.digest('hex'));
  }

  async close(): Promise<void> {
    await this.source.return?.();
  }
}
