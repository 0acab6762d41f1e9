import type { BigIntStats } from 'node:fs';
import type { FileBody } from '../wire/codec.js';
import type { RetrieveChunkRequest, RetrieveReply } from '../wire/messages.js';
import { BlockChecker, describeMismatch, READ_BYTES } from '../storage/checksums.js';
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
  return { status: 'ok', data: fileBody(file, verified, ctx) };
}

function fileBody(file: ChunkFile, verified: BigIntStats, ctx: HandlerContext): FileBody {
  let closed = false;
  const checker = new BlockChecker(file.sums.crcs);
  return {
    kind: 'file',
    size: file.size,
    async pipe(sink) {
      let changed = false;
      // Two leased blocks: one being filled from disk while the other drains to the socket.
      const leases = [ctx.pool.acquire(READ_BYTES), ctx.pool.acquire(READ_BYTES)];
      const inFlight: Array<Promise<void> | null> = [null, null];
      try {
        let offset = 0;
        let turn = 0;
        while (offset < file.size) {
          await inFlight[turn];
          const block = leases[turn]!.buf;
          const want = Math.min(block.length, file.size - offset);
          const { bytesRead } = await file.handle.read(block, 0, want, offset);
          // The header is out: the only honest answer left to a change is a broken frame.
          if (!changed) {
            const now = await file.handle.stat({ bigint: true });
            changed = now.ctimeNs !== verified.ctimeNs || now.mtimeNs !== verified.mtimeNs || now.size !== verified.size;
          }
          const mismatch =
            bytesRead !== want
              ? { kind: 'size' as const, expected: file.size, actual: offset + bytesRead }
              : changed
                ? checker.check(block.subarray(0, want), offset)
                : null;
          if (mismatch) {
            await ctx.store.condemn(file, 'retrieve', mismatch);
            throw new Error(`chunk changed while being sent: ${describeMismatch(mismatch)}`);
          }
          const sent = sink(block.subarray(0, want));
          // Awaited on this block's next turn or at the end; until then a failed write (client
          // gone) must not count as an unhandled rejection.
          sent.catch(() => undefined);
          inFlight[turn] = sent;
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
