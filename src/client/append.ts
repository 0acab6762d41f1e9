// Appends as the reference does, made safe for many producers: the part that fits in the
// file's last chunk goes to every holder in two phases (two-phase.ts), then
// update_chunk_offset; the rest starts new chunks.
import type { Logger } from 'pino';
import { Progress } from './bounded.js';
import { GfsError } from './errors.js';
import type { MasterApi } from './master-api.js';
import type { PieceReader } from './source.js';
import { storeChunk, type Caller } from './store.js';
import { twoPhaseAppend } from './two-phase.js';
import { writableServers } from './put.js';
import { bytesOf, locateLast, maxRecordBytes, recordAppend, type LeaseCache } from './record-append.js';

export interface AppendDeps {
  readonly master: MasterApi;
  readonly call: Caller;
  readonly chunkSize: number;
  readonly log?: Logger | undefined;
  /** Where files' last chunks and primaries are kept between appends; absent: two phases only. */
  readonly cache?: LeaseCache;
}

export interface AppendResult {
  /** Bytes appended. */
  readonly appended: number;
  /** Where in the file the first of them went (null when nothing was appended). */
  readonly offset: number | null;
  /** Holders that have every appended byte: the fewest any piece reached (0 when nothing was appended). */
  readonly copies: number;
  /** Each chunk the append wrote to (its index in the file) with the copies it reached there, in order. */
  readonly chunks: Array<{ readonly index: number; readonly copies: number }>;
  /** The master's replication_factor, or null when it does not say (a reference master). */
  readonly factor: number | null;
}

/**
/**
 * The file must exist (the caller creates it with put). With record_append when the master
 * names a primary for the file's last chunk (records of at most a quarter chunk; a larger
 * input is split), else in two phases. `minCopies`: a piece that reaches fewer holders stops
 * the append with under_replicated. Acknowledged bytes cannot be taken back (another producer
 * may append after them), so what went before stays, and the error says how much that was;
 * the master adds the missing copies when servers have room.
 */
export async function append(deps: AppendDeps, reader: PieceReader, remote: string, minCopies: number, onProgress?: (done: number, total: number | undefined) => void): Promise<AppendResult> {
  const progress = new Progress(reader.size, onProgress);
  if (deps.cache && (await locateLast({ ...deps, cache: deps.cache }, remote))) return appendRecords({ ...deps, cache: deps.cache }, reader, remote, minCopies, progress);
  let appended = 0;
  let copies = Infinity;
  let offset: number | null = null;
  const chunks: Array<{ index: number; copies: number }> = [];
  for (;;) {
    const meta = await deps.master.metadata(remote);
    if (!meta) throw new GfsError('file_not_found', `no such file: ${remote}`);
    const last = meta.last_chunk_id;
    const room = last === null ? 0 : deps.chunkSize - meta.last_chunk_offset;
    const piece = await reader.take(room > 0 ? room : deps.chunkSize);
    if (!piece) return { appended, offset, copies: appended === 0 ? 0 : copies, chunks, factor: await deps.master.replicationFactor() };
    // The chunks before the last one are full and never change.
    const before = meta.total_size - (last === null ? 0 : meta.last_chunk_offset);
    let reached: number;
    let index: number;
    try {
      if (room > 0 && last !== null) {
        const done = await twoPhaseAppend(deps, { remote, chunkId: last, offset: meta.last_chunk_offset }, piece);
        reached = done.holders.length;
        index = meta.chunk_ids.length - 1;
        offset ??= before + done.offset;
      } else {
        const stored = await storeChunk(deps.call, await writableServers(deps.master), remote, meta.chunk_ids.length, piece, new Progress(undefined), deps.log);
        reached = 1 + stored.replicas;
        index = meta.chunk_ids.length;
        offset ??= meta.total_size;
      }
    } finally {
      await piece.release();
    }
    copies = Math.min(copies, reached);
    chunks.push({ index, copies: reached });
    appended += piece.size;
    progress.add(piece.size);
    if (reached < minCopies) {
      throw new GfsError('under_replicated', `chunk ${index} took the append with ${reached} of the ${minCopies} copies asked for (--min_copies); ${appended} bytes were appended from offset ${offset} and stay (an append cannot be taken back), the rest was not sent`);
    }
  }
}

/**
 * An input of at most a quarter chunk is one record, atomic (GFS 3.3): whole at one offset,
 * or the chunk padded and the record sent to the next. A larger input is a byte stream cut
 * into records, each cut again where a chunk's room ends, so a lone appender's bytes follow
 * each other unpadded (with other appenders at work, theirs may come between its pieces).
 */
async function appendRecords(deps: AppendDeps & { cache: LeaseCache }, reader: PieceReader, remote: string, minCopies: number, progress: Progress): Promise<AppendResult> {
  let appended = 0;
  let copies = Infinity;
  let offset: number | null = null;
  // Each chunk written, with the fewest copies any of its records reached.
  const chunks: Array<{ index: number; copies: number }> = [];
  const max = maxRecordBytes(deps.chunkSize);
  let next = await reader.take(max);
  // More than one record's worth: a byte stream.
  let stream = false;
  for (;;) {
    const piece = next;
    if (!piece) return { appended, offset, copies: appended === 0 ? 0 : copies, chunks, factor: await deps.master.replicationFactor() };
    try {
      let rest = await bytesOf(piece);
      next = await reader.take(max);
      stream ||= next !== null;
      while (rest.length > 0) {
        const done = await recordAppend(deps, remote, rest, stream);
        // The master named a primary a moment ago and none now: its lease lapsed; ask again.
        if (!done) throw new GfsError('chunk_unavailable', `no primary for the last chunk of ${remote}; ${appended} bytes were appended`);
        offset ??= done.offset;
        copies = Math.min(copies, done.copies);
        const last = chunks[chunks.length - 1];
        if (last?.index === done.index) last.copies = Math.min(last.copies, done.copies);
        else chunks.push({ index: done.index, copies: done.copies });
        rest = rest.subarray(done.written);
        if (done.copies < minCopies) {
          throw new GfsError('under_replicated', `chunk ${done.index} took the append with ${done.copies} of the ${minCopies} copies asked for (--min_copies); ${appended + piece.size - rest.length} bytes were appended from offset ${offset} and stay (an append cannot be taken back), the rest was not sent`);
        }
      }
    } finally {
      await piece.release();
    }
    appended += piece.size;
    progress.add(piece.size);
  }
}
