// Downloads: into a temp file beside the target, renamed over it once whole; or
// into a stream, in order, each chunk staged in a scratch file until its turn.
import { randomBytes } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { Progress, runBounded } from './bounded.js';
import { GfsError } from './errors.js';
import type { SinkCaller } from './fetch.js';
import type { ChunkCache } from './chunk-cache.js';
import { readChunk } from './read-chunk.js';
import type { Logger } from 'pino';
import type { ChunkPlace, FileMetadata, MasterApi } from './master-api.js';
import { Scratch } from './source.js';

const COPY_BLOCK_BYTES = 1024 * 1024;

interface Planned {
  readonly index: number;
  readonly chunkId: string;
  readonly size: number;
  readonly start: number;
  readonly place: ChunkPlace | undefined;
}

export interface GetDeps {
  readonly master: MasterApi;
  readonly call: SinkCaller;
  readonly concurrency: number;
  readonly cache: ChunkCache | null;
  readonly log?: Logger | undefined;
}

function plan({ meta, places }: ReadPlan): Planned[] {
  let start = 0;
  return meta.chunk_ids.map((chunkId, index) => {
    const size = Number(meta.chunk_offsets[chunkId] ?? 0);
    const p = { index, chunkId, size, start, place: places.get(chunkId) };
    start += size;
    return p;
  });
}

async function fetchPlanned(deps: GetDeps, remote: string, p: Planned, fh: FileHandle, base: number, progress: Progress): Promise<void> {
  if (p.size === 0) return;
  await readChunk(deps, remote, { chunkId: p.chunkId, size: p.size }, fh, base, progress, p.place);
}

interface ReadPlan {
  readonly meta: FileMetadata;
  readonly places: Map<string, ChunkPlace>;
}

async function metadataOf(deps: GetDeps, remote: string): Promise<ReadPlan> {
  const { meta, places } = await deps.master.metadataForRead(remote);
  if (!meta) throw new GfsError('file_not_found', `no such file: ${remote}`);
  return { meta, places };
}

function localError(path: string, err: unknown): GfsError {
  const e = err as NodeJS.ErrnoException;
  const why = e.code === 'ENOENT' ? 'no such directory' : e.code === 'EACCES' ? 'permission denied' : e.code === 'ENOSPC' ? 'no space left on the local disk' : e.message;
  return new GfsError('local_io', `cannot write ${path}: ${why}`);
}

/** Returns the bytes written. */
export async function getToPath(deps: GetDeps, remote: string, target: string, onProgress?: (done: number, total: number | undefined) => void): Promise<number> {
  const meta = await metadataOf(deps, remote);
  const chunks = plan(meta);
  const total = chunks.reduce((n, c) => n + c.size, 0);
  const temp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.gfs-part`);
  let fh: FileHandle;
  try {
    fh = await open(temp, 'wx', 0o644);
  } catch (err) {
    throw localError(target, err);
  }
  const progress = new Progress(total, onProgress);
  try {
    let i = 0;
    await runBounded(async () => chunks[i++] ?? null, deps.concurrency, (p) => fetchPlanned(deps, remote, p, fh, p.start, progress));
    await fh.truncate(total);
    // Not fsynced, as cp and curl do not: the rename already ensures that the target name
    // never shows a partial file, and a download lost to a power cut can be made again.
    await fh.close();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  try {
    await rename(temp, target);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw localError(target, err);
  }
  return total;
}

export function writeTo(out: Writable, block: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(new GfsError('local_io', `cannot write the output: ${err.message}`));
    out.once('error', onError);
    const ok = out.write(block, (err) => {
      if (err) onError(err);
    });
    const done = (): void => {
      out.off('error', onError);
      resolve();
    };
    if (ok) done();
    else out.once('drain', done);
  });
}

/** Writes the file to `out` in order; up to `concurrency` chunks are fetched ahead. Returns the bytes written. */
export async function getToStream(deps: GetDeps, remote: string, out: Writable, onProgress?: (done: number, total: number | undefined) => void): Promise<number> {
  const meta = await metadataOf(deps, remote);
  const chunks = plan(meta);
  const total = chunks.reduce((n, c) => n + c.size, 0);
  const progress = new Progress(total, onProgress);
  const scratch = new Scratch();
  const fetches: Array<Promise<{ fh: FileHandle; path: string }>> = [];
  const start = (p: Planned): void => {
    const f = (async () => {
      const file = await scratch.file();
      try {
        await fetchPlanned(deps, remote, p, file.fh, 0, progress);
        return file;
      } catch (err) {
        await file.fh.close();
        throw err;
      }
    })();
    f.catch(() => undefined);
    fetches.push(f);
  };
  try {
    for (const p of chunks.slice(0, deps.concurrency)) start(p);
    for (const p of chunks) {
      const file = await fetches[p.index]!;
      const next = chunks[p.index + deps.concurrency];
      if (next) start(next);
      try {
        for (let done = 0; done < p.size; ) {
          // A fresh block each time: the stream may hold on to what it was given.
          const block = Buffer.allocUnsafe(Math.min(COPY_BLOCK_BYTES, p.size - done));
          const { bytesRead } = await file.fh.read(block, 0, block.length, done);
          if (bytesRead !== block.length) throw new GfsError('local_io', 'scratch file shrank');
          await writeTo(out, block);
          done += block.length;
        }
      } finally {
        await file.fh.close();
        await unlink(file.path).catch(() => undefined);
      }
    }
  } finally {
    await Promise.allSettled(fetches.map((f) => f.then((file) => file.fh.close().catch(() => undefined))));
    await scratch.dispose();
  }
  return total;
}
