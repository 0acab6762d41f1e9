import type { FileBody } from '../wire/codec.js';
import type { RetrieveChunkRequest, RetrieveReply } from '../wire/messages.js';
import type { ChunkFile } from '../storage/chunk-store.js';
import type { HandlerContext } from './context.js';

// Blocks of this size are read from the file and handed to the socket in turn.
const READ_BLOCK_BYTES = 1024 * 1024;

/** retrieve_chunk: the reply streams the file; no chunk-sized buffer is ever built. */
export async function retrieveChunk(req: RetrieveChunkRequest, ctx: HandlerContext): Promise<RetrieveReply> {
  const file = await ctx.store.openForRead(req.chunk_id);
  ctx.log.debug({ chunk_id: req.chunk_id, bytes: file.size }, 'retrieving chunk');
  return { status: 'ok', data: fileBody(file, ctx) };
}

function fileBody(file: ChunkFile, ctx: HandlerContext): FileBody {
  let closed = false;
  return {
    kind: 'file',
    size: file.size,
    async pipe(sink) {
      // Two leased blocks: one being filled from disk while the other drains to the socket.
      const leases = [ctx.pool.acquire(READ_BLOCK_BYTES), ctx.pool.acquire(READ_BLOCK_BYTES)];
      const inFlight: Array<Promise<void> | null> = [null, null];
      try {
        let offset = 0;
        let turn = 0;
        while (offset < file.size) {
          await inFlight[turn];
          const block = leases[turn]!.buf;
          const want = Math.min(block.length, file.size - offset);
          const { bytesRead } = await file.handle.read(block, 0, want, offset);
          if (bytesRead !== want) throw new Error('chunk shrank while being sent');
          inFlight[turn] = sink(block.subarray(0, want));
          offset += want;
          turn ^= 1;
        }
        await Promise.all(inFlight);
      } finally {
        await Promise.allSettled(inFlight);
        for (const lease of leases) lease.release();
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await file.handle.close();
    },
  };
}
