import { bufferBody, fileBodyOf } from '../storage/file-body.js';
import type { RetrieveChunkRequest, RetrieveReply } from '../wire/messages.js';
import type { HandlerContext } from './context.js';

// Chunks up to this size are read whole into a reused block (open, read, close: no stat);
// larger ones are streamed from the file.
const READ_WHOLE_MAX_BYTES = 64 * 1024;

/** retrieve_chunk: the reply streams the file; no chunk-sized buffer is ever built. */
export async function retrieveChunk(req: RetrieveChunkRequest, ctx: HandlerContext): Promise<RetrieveReply> {
  ctx.log.debug({ chunk_id: req.chunk_id }, 'retrieving chunk');
  // One byte more than the largest small chunk, to see whether the chunk grew since indexed.
  const lease = ctx.pool.acquire(READ_WHOLE_MAX_BYTES + 1);
  let length: number | null;
  try {
    length = await ctx.store.readSmall(req.chunk_id, lease.buf);
  } catch (err) {
    lease.release();
    throw err;
  }
  if (length !== null) return { status: 'ok', data: bufferBody(lease.buf.subarray(0, length), () => lease.release()) };
  lease.release();
  const file = await ctx.store.openForRead(req.chunk_id);
  return { status: 'ok', data: fileBodyOf(file.handle, file.size, ctx.pool, () => file.handle.close()) };
}
