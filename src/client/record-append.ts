// Appends as GFS does (PROTOCOL.md, "Leases and record_append"): each record goes once to
// the primary of the file's last chunk, which picks the offset and answers when every
// current holder has it. Where the last chunk is, who its primary is and until when, are
// kept per file for a bounded time and dropped on any answer that says they are stale, so
// a stream of appends costs one round trip each.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { MSG } from '../errors.js';
import { replyCode } from '../net/peer-errors.js';
import type { Reply } from '../net/rpc.js';
import { GfsError } from './errors.js';
import type { FileMetadata, MasterApi } from './master-api.js';
import type { ChunkPiece } from './source.js';
import type { Caller } from './store.js';

// How long a file's last chunk and primary are trusted without asking the master again, in
// ms; never past the lease's end.
const LOCATION_TTL_MS = 10_000;
// Files whose locations are kept at once; the oldest goes first.
const MAX_CACHED_FILES = 1024;
// Attempts per record: each failed one (a primary changing, a holder failing) drops the
// cached locations and asks again after a short, jittered pause.
const MAX_ATTEMPTS = 30;
const BACKOFF_BASE_MS = 5;
const BACKOFF_MAX_MS = 500;

interface LastChunk {
  readonly chunkId: string;
  /** The chunk's index in the file. */
  readonly index: number;
  /** File offset of the chunk's first byte (the chunks before it are full and never change). */
  readonly start: number;
  readonly primary: string;
  /** Current holders named by the master (the primary among them). */
  readonly holders: number;
  /** ms (Date.now()) after which the entry is asked again. */
  readonly until: number;
}

/** Per-file last chunk and primary, bounded in count and in time. */
export class LeaseCache {
  private readonly files = new Map<string, LastChunk>();

  get(remote: string): LastChunk | null {
    const e = this.files.get(remote);
    if (!e) return null;
    if (e.until <= Date.now()) {
      this.files.delete(remote);
      return null;
    }
    return e;
  }

  set(remote: string, e: LastChunk): void {
    this.files.delete(remote);
    this.files.set(remote, e);
    if (this.files.size > MAX_CACHED_FILES) this.files.delete(this.files.keys().next().value!);
  }

  drop(remote: string): void {
    this.files.delete(remote);
  }
}

export interface RecordAppendDeps {
  readonly master: MasterApi;
  readonly call: Caller;
  readonly chunkSize: number;
  readonly cache: LeaseCache;
  readonly log?: Logger | undefined;
}

/** The largest record a chunk of `chunkSize` takes (GFS's quarter). */
export function maxRecordBytes(chunkSize: number): number {
  return Math.max(1, Math.floor(chunkSize / 4));
}

function startOf(meta: FileMetadata): number {
  let start = 0;
  for (const id of meta.chunk_ids.slice(0, -1)) start += meta.chunk_offsets[id] ?? 0;
  return start;
}

function entryOf(chunkId: string, index: number, start: number, reply: Reply): LastChunk | null {
  if (typeof reply.primary !== 'string') return null;
  const leaseEnd = typeof reply.lease_end === 'number' ? reply.lease_end : 0;
  const holders = Array.isArray(reply.locations) ? reply.locations.length : 1;
  return { chunkId, index, start, primary: reply.primary, holders, until: Math.min(leaseEnd, Date.now() + LOCATION_TTL_MS) };
}

/**
 * The file's last chunk and its primary, from the cache or the master. null: the master names
 * no primary (it grants no leases, or none yet): the caller appends in two phases.
 */
export async function locateLast(deps: RecordAppendDeps, remote: string): Promise<LastChunk | null> {
  const cached = deps.cache.get(remote);
  if (cached) return cached;
  const meta = await deps.master.metadata(remote);
  if (!meta) throw new GfsError('file_not_found', `no such file: ${remote}`);
  const last = meta.last_chunk_id;
  const reply = last === null
    ? await deps.master.raw({ command: 'allocate_chunk', file_path: remote, after_chunk_id: null })
    : await deps.master.ok({ command: 'get_chunk_locations', file_path: remote, chunk_id: last });
  if (reply.status !== 'ok') return null;
  const chunkId = last ?? String(reply.chunk_id);
  const e = entryOf(chunkId, last === null ? 0 : meta.chunk_ids.length - 1, startOf(meta), reply);
  if (e) deps.cache.set(remote, e);
  return e;
}

/** After chunk_full: the file's next chunk, created once for all appenders (allocate_chunk). */
async function nextChunk(deps: RecordAppendDeps, remote: string, full: LastChunk, fullSize: number): Promise<void> {
  const reply = await deps.master.ok({ command: 'allocate_chunk', file_path: remote, after_chunk_id: full.chunkId });
  deps.cache.drop(remote);
  const chunkId = String(reply.chunk_id);
  // The chunk handed out follows the full one only when nobody went further meanwhile; else ask.
  const e = reply.created === true ? entryOf(chunkId, full.index + 1, full.start + fullSize, reply) : null;
  if (e) deps.cache.set(remote, e);
}

/** The piece's bytes in memory (a record is at most a quarter chunk). */
export async function bytesOf(piece: ChunkPiece): Promise<Buffer> {
  const body = piece.body();
  if (Buffer.isBuffer(body)) return body;
  const parts: Buffer[] = [];
  try {
    // Blocks come from a reused pool: copied.
    await body.pipe(async (block) => void parts.push(Buffer.from(block)));
  } finally {
    await body.close();
  }
  return Buffer.concat(parts);
}

/**
 * Appends one record (at most maxRecordBytes) with record_append; resolves with its file
 * offset, the holders it is on and the bytes written (all of them, unless `partial`: a byte
 * stream, of which only what fits in the chunk's room went in). null: no primary is named
 * (fall back to two phases).
 */
export async function recordAppend(deps: RecordAppendDeps, remote: string, data: Buffer, partial = false): Promise<{ offset: number; copies: number; written: number; index: number } | null> {
  let why = '';
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const at = await locateLast(deps, remote);
    if (!at) return null;
    let reply: Reply;
    try {
      reply = await deps.call(at.primary, { command: 'record_append', chunk_id: at.chunkId, file_path: remote, data, chunk_size: deps.chunkSize, ...(partial ? { partial } : {}) });
    } catch (err) {
      reply = { status: 'error', message: (err as Error).message };
    }
    if (reply.status === 'ok') return { offset: at.start + Number(reply.offset), copies: typeof reply.copies === 'number' ? reply.copies : at.holders, written: typeof reply.written === 'number' ? reply.written : data.length, index: at.index };
    const code = replyCode(reply.message)?.code;
    why = `${at.primary}: ${String(reply.message)}`;
    if (code === 'unknown_command') return null;
    if (code === MSG.recordTooLarge) throw new GfsError('chunk_unavailable', `record of ${data.length} bytes refused: ${why}`);
    if (code === MSG.chunkFull) {
      await nextChunk(deps, remote, at, Number(reply.size ?? deps.chunkSize));
      continue;
    }
    // not_primary, no_lease, replica_failed, bad_offset, an unknown chunk, a lost connection:
    // what we knew is stale; ask again.
    deps.cache.drop(remote);
    deps.log?.debug({ remote, attempt, why }, 'record_append failed; retrying');
    await sleep(Math.random() * Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempt));
  }
  throw new GfsError('chunk_unavailable', `record append to ${remote} failed ${MAX_ATTEMPTS} times (last: ${why}); it may be present once or more, never torn`);
}
