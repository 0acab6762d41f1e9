import type { BigIntStats } from 'node:fs';
import type { FileBody } from '../wire/codec.js';
import type { RetrieveChunkRequest, RetrieveReply } from '../wire/messages.js';
import { BlockChecker, describeMismatch } from '../storage/checksums.js';
import { fileBodyOf } from '../storage/file-body.js';
import type { ChunkFile } from '../storage/chunk-store.js';
import type { HandlerContext } from './context.js';

/**
 * retrieve_chunk: the whole chunk is checked against its checksums before the reply header
 * goes out (shared/field-notes.md: ~20 ms per 64 MiB from the page cache), so a damaged
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
  const file = await ctx.store.openForRead(req.chunk_id);
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
