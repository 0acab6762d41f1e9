import type { BigIntStats } from 'node:fs';
import type { FileBody } from '../wire/codec.js';
import type { RetrieveChunkRequest, RetrieveReply } from '../wire/messages.js';
import { CorruptChunkError } from '../errors.js';
import { BlockChecker, describeMismatch } from '../storage/checksums.js';
import { fileBodyOf } from '../storage/file-body.js';
import type { ChunkFile } from '../storage/chunk-store.js';
import type { HandlerContext } from './context.js';

/**
 * retrieve_chunk. A chunk of at most 1 MiB is read once into a pooled buffer, checked
 * against its sums and sent from that buffer (one read of the file). A larger chunk is
 * checked against its checksums before the reply header goes out (shared/field-notes.md: ~20 ms per 64 MiB from the page cache), so a damaged
 * chunk is answered `corrupt_chunk` (and quarantined) as a proper reply. The reply then
 * streams the file; no chunk-sized buffer is built.
 *
 * While streaming, the blocks just verified come from the page cache, where media damage
 * cannot reach them; only a write to the file can change them, and a write changes its
 * ctime. So each block costs an fstat, not a second CRC pass (which halved the 64 MiB
 * retrieve rate), and once the file has changed every block from there on is checked
 * against its sums before it is sent.
 */
export async function retrieveChunk(req: RetrieveChunkRequest, ctx: HandlerContext): Promise<RetrieveReply> {
  let file = await ctx.store.openForRead(req.chunk_id);
  for (let attempt = 1; file.size <= VERIFY_AHEAD_BYTES; attempt++) {
    const body = await readVerified(file, ctx, attempt < 3);
    if (body) return { status: 'ok', data: body, version: file.version };
    // An overwrite committed while the chunk was being read: read the new version.
    file = await ctx.store.openForRead(req.chunk_id);
  }
  let verified: BigIntStats;
  try {
    // Taken before the check, so that a write during it also counts as a change.
    verified = await file.handle.stat({ bigint: true });
    await ctx.store.verify(file, 'retrieve');
  } catch (err) {
    await file.handle.close();
    throw err;
  }
  ctx.log.debug({ chunk_id: req.chunk_id, bytes: file.size }, 'retrieving chunk');
  return { status: 'ok', data: fileBody(file, verified, ctx), version: file.version };
}

/**
 * Chunks up to this size are read once into a pooled buffer, checked, and sent from it:
 * one read of the file, and damage is always answered `corrupt_chunk`.
 */
const VERIFY_AHEAD_BYTES = 1024 * 1024;

/** The checked bytes; null when they failed because the chunk changed meanwhile and `retry` allows another read. */
async function readVerified(file: ChunkFile, ctx: HandlerContext, retry: boolean): Promise<FileBody | null> {
  const lease = ctx.pool.acquire(file.size);
  try {
    let got = 0;
    try {
      while (got < file.size) {
        const { bytesRead } = await file.handle.read(lease.buf, got, file.size - got, got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
    } finally {
      await file.handle.close();
    }
    const bytes = lease.buf.subarray(0, got);
    const mismatch = got < file.size ? { kind: 'size' as const, expected: file.size, actual: got } : new BlockChecker(file.sums.crcs).check(bytes, 0);
    if (mismatch) {
      if (retry && ctx.store.versionOf(file.chunkId) !== file.version) {
        lease.release();
        return null;
      }
      await ctx.store.condemn(file, 'retrieve', mismatch);
      throw new CorruptChunkError();
    }
    return bufferBody(bytes, () => lease.release());
  } catch (err) {
    lease.release();
    throw err;
  }
}

function bufferBody(bytes: Buffer, release: () => void): FileBody {
  let closed = false;
  return {
    kind: 'file',
    size: bytes.length,
    pipe: (sink) => sink(bytes),
    async close() {
      if (closed) return;
      closed = true;
      release();
    },
  };
}

function fileBody(file: ChunkFile, verified: BigIntStats, ctx: HandlerContext): FileBody {
  const checker = new BlockChecker(file.sums.crcs);
  let changed = false;
  return fileBodyOf(file.handle, file.size, ctx.pool, () => file.handle.close(), async (block, offset, want) => {
    if (!changed) {
      const now = await file.handle.stat({ bigint: true });
      changed = now.ctimeNs !== verified.ctimeNs || now.mtimeNs !== verified.mtimeNs || now.size !== verified.size;
    }
    const mismatch =
      block.length !== want ? { kind: 'size' as const, expected: file.size, actual: offset + block.length } : changed ? checker.check(block, offset) : null;
    if (mismatch) {
      // The header is out: the only honest answer left to a change is a broken frame.
      await ctx.store.condemn(file, 'retrieve', mismatch);
      throw new Error(`chunk changed while being sent: ${describeMismatch(mismatch)}`);
    }
  });
}
