import type { FileHandle } from 'node:fs/promises';
import type { BufferPool } from '../../wire/buffer-pool.js';
import type { FileBody } from '../../wire/payload.js';

// Blocks of this size (a multiple of the 64 KiB checksum block) are read from the file and
// handed to the socket in turn.
export const READ_BLOCK_BYTES = 1024 * 1024;

/** Sees each block before it is sent (`block` holds what was read of `want` bytes); throwing stops the stream. */
export type BlockInspector = (block: Buffer, offset: number, want: number) => Promise<void> | void;

export interface FileBodyOptions {
  /** First byte of the file to send (default 0); the body holds the bytes [from, end). */
  readonly from?: number;
  readonly inspect?: BlockInspector;
}

/**
 * The bytes [from, end) of an open file as a reply piece, read with positional reads (so
 * the handle may be shared) through two leased blocks: one filled from disk while the other
 * drains. Every block is read once and passes `inspect` before the sink sees it. `release`
 * runs once, from close().
 */
export function fileBodyOf(handle: FileHandle, end: number, pool: BufferPool, release: () => Promise<void>, opts: FileBodyOptions = {}): FileBody {
  const from = opts.from ?? 0;
  const inspect = opts.inspect;
  let closed = false;
  return {
    kind: 'file',
    size: end - from,
    async pipe(sink) {
      const leases = [pool.acquire(READ_BLOCK_BYTES), pool.acquire(READ_BLOCK_BYTES)];
      const inFlight: Array<Promise<void> | null> = [null, null];
      try {
        let offset = from;
        let turn = 0;
        while (offset < end) {
          await inFlight[turn];
          const block = leases[turn]!.buf;
          const want = Math.min(block.length, end - offset);
          const { bytesRead } = await handle.read(block, 0, want, offset);
          await inspect?.(block.subarray(0, bytesRead), offset, want);
          if (bytesRead !== want) throw new Error('file shrank while being sent');
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
      await release();
    },
  };
}
