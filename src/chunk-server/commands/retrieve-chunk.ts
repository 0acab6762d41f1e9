import { defineCommand, type RequestOf } from '../../commands/define.js';
import { chunkId } from '../../commands/fields.js';
import { shape } from '../../commands/shape.js';
import type { FileBody } from '../../wire/payload.js';
import type { Lease } from '../../wire/buffer-pool.js';
import { ChunkNotFoundError, CorruptChunkError } from '../../errors.js';
import { describeMismatch, type Mismatch } from '../../storage/index.js';
import { fileBodyOf, readFully, READ_BLOCK_BYTES } from '../../storage/index.js';
import type { VerifiedChunk as ChunkFile } from '../../storage/index.js';
import type { HandlerContext } from './context.js';

const request = shape({ chunk_id: chunkId() });
type RetrieveReply = { status: 'ok'; data: Buffer | FileBody; version?: number };

/**
 * retrieve_chunk reads the chunk file once (PROTOCOL.md section 6, "Retrieve: one read").
 * - Verify ahead: the first VERIFY_AHEAD_BYTES (all of a smaller chunk) are read into a
 *   pooled buffer and checked before the reply header goes out, with an fstat that the file
 *   still holds the committed length. Damage there is answered `corrupt_chunk` as a proper
 *   reply, and the chunk quarantined.
 * - Verify while streaming: the rest is read block by block, and each block is checked
 *   against its sums before the socket gets it. A block that fails is never sent: the
 *   stream stops, the frame stays incomplete and the connection closes; the chunk is
 *   quarantined first, so the client's next retrieve is answered `corrupt_chunk`.
 * The sums are those of the version opened. An overwrite in place changes bytes into ones
 * these sums do not match, so a complete frame always holds one version whole; a mismatch
 * caused by an overwrite committed meanwhile is no damage: before the header the new
 * version is read instead, after it the connection closes and nothing is quarantined.
 */
async function retrieveChunk(req: RequestOf<'retrieve_chunk', typeof request>, ctx: HandlerContext): Promise<RetrieveReply> {
  for (let attempt = 1; ; attempt++) {
    const file = await openChunk(req.chunk_id, ctx);
    const body = await verifyAhead(file, ctx, attempt < MAX_READS);
    if (body) return { status: 'ok', data: body, version: file.version };
  }
}

/** Bytes checked before the header goes out: one read block, so a small chunk is read, checked and sent from one pooled buffer. */
const VERIFY_AHEAD_BYTES = READ_BLOCK_BYTES;

/** Reads of a chunk that keeps changing under a retrieve before its damage is believed. */
const MAX_READS = 3;

/**
 * A chunk this server quarantined and has not yet reported to a master is answered
 * `corrupt_chunk`, not `chunk_not_found`: a client whose stream was cut by the damage
 * learns why on its next try.
 */
async function openChunk(chunkId: string, ctx: HandlerContext): Promise<ChunkFile> {
  try {
    return await ctx.store.openVerified(chunkId);
  } catch (err) {
    if (err instanceof ChunkNotFoundError && ctx.store.corruptChunks().includes(chunkId)) throw new CorruptChunkError();
    throw err;
  }
}

/**
 * The reply body, its first window read and checked; null when the check failed because
 * the chunk was overwritten meanwhile and `retry` allows reading the new version.
 */
async function verifyAhead(file: ChunkFile, ctx: HandlerContext, retry: boolean): Promise<FileBody | null> {
  const headBytes = Math.min(file.size, VERIFY_AHEAD_BYTES);
  const streams = file.size > headBytes;
  const lease = ctx.pool.acquire(headBytes);
  let handedOver = false;
  try {
    let mismatch: Mismatch | null = null;
    // A file shorter than its committed length lost acknowledged bytes: found now, as a reply.
    if (streams) mismatch = await file.checkLength();
    if (!mismatch) {
      const got = await readFully(file.handle, lease.buf, headBytes, 0);
      mismatch = file.check(lease.buf.subarray(0, got), 0, headBytes);
    }
    if (mismatch) {
      if (retry && (await overwritten(file, ctx))) return null;
      await file.condemn('retrieve', mismatch);
      throw new CorruptChunkError();
    }
    ctx.log.debug({ chunk_id: file.chunkId, bytes: file.size }, 'retrieving chunk');
    handedOver = true;
    return streams ? streamedBody(file, lease, ctx) : bufferBody(lease);
  } finally {
    if (!handedOver) lease.release();
    if (!handedOver || !streams) await file.handle.close();
  }
}

/**
 * Whether a newer version than the one opened has been committed. Asked under the chunk
 * lock, so that an overwrite whose bytes are in place but not yet committed is waited for.
 */
function overwritten(file: ChunkFile, ctx: HandlerContext): Promise<boolean> {
  return file.replaced();
}

function bufferBody(lease: Lease): FileBody {
  let closed = false;
  return {
    kind: 'file',
    size: lease.buf.length,
    pipe: (sink) => sink(lease.buf),
    async close() {
      if (closed) return;
      closed = true;
      lease.release();
    },
  };
}

/** The checked first window from `head`, then the rest of the file, each block checked before it is sent. */
function streamedBody(file: ChunkFile, head: Lease, ctx: HandlerContext): FileBody {
  const rest = fileBodyOf(file.handle, file.size, ctx.pool, () => file.handle.close(), {
    from: head.buf.length,
    inspect: (block, offset, want) => {
      const mismatch = file.check(block, offset, want);
      if (mismatch) return refuseBlock(file, mismatch, ctx);
    },
  });
  let headLease: Lease | null = head;
  const releaseHead = (): void => {
    headLease?.release();
    headLease = null;
  };
  return {
    kind: 'file',
    size: file.size,
    async pipe(sink) {
      try {
        await sink(head.buf);
      } finally {
        releaseHead();
      }
      await rest.pipe(sink);
    },
    async close() {
      releaseHead();
      await rest.close();
    },
  };
}

/** A block failed its sums after the header went out: the only honest answer left is a broken frame. */
async function refuseBlock(file: ChunkFile, mismatch: Mismatch, ctx: HandlerContext): Promise<never> {
  if (await overwritten(file, ctx)) {
    ctx.log.info({ chunk_id: file.chunkId, version: file.version }, 'chunk overwritten while being sent; reply cut short');
    throw new Error('chunk overwritten while being sent');
  }
  await file.condemn('retrieve', mismatch);
  throw new Error(`chunk failed its checksums while being sent: ${describeMismatch(mismatch)}`);
}

export default defineCommand({ name: 'retrieve_chunk', access: 'read', request, handle: retrieveChunk });
