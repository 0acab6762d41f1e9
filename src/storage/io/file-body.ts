import type { FileHandle } from 'node:fs/promises';
import type { BufferPool } from '../../wire/buffer-pool.js';
import type { FileBody } from '../../wire/payload.js';

// Blocks of this size (a multiple of the 64 KiB checksum block) are read from the file and
// handed to the socket in turn.
export const READ_BLOCK_BYTES = 1024 * 1024;

/** Sees each block before it is sent (`block` holds what was read of `want` bytes); throwing stops the stream. */
export type BlockInspector = (block: Buffer, offset: number, want: number) => Promise<void> | void;

/**
 * Blocks read ahead of the socket (issue 22 item 4). With two, one block is read while the
 * other drains, and a read that stalls (a cold page, a busy disk) stalls the socket behind
 * it; more in flight hide that. Measured with `npm run bench -- --only 1m,64m` (docs/performance.md).
 */
export const READ_AHEAD_BLOCKS = 4;

export interface FileBodyOptions {
  /** First byte of the file to send (default 0); the body holds the bytes [from, end). */
  readonly from?: number;
  readonly inspect?: BlockInspector;
  /** Blocks read ahead at most (default READ_AHEAD_BLOCKS), each a leased READ_BLOCK_BYTES. */
  readonly depth?: number;
}

interface ReadBlock {
  readonly offset: number;
  readonly want: number;
  readonly got: number;
}

/**
 * The bytes [from, end) of an open file as a reply piece, read with positional reads (so
 * the handle may be shared) into `depth` leased blocks: a block is read again as soon as the
 * socket has taken its last bytes, so up to `depth` reads run ahead of the sends. Blocks go
 * to the sink in file order, each read once and passed through `inspect` before the sink
 * sees it (a read ahead is never sent unchecked). `release` runs once, from close().
 */
export function fileBodyOf(handle: FileHandle, end: number, pool: BufferPool, release: () => Promise<void>, opts: FileBodyOptions = {}): FileBody {
  const from = opts.from ?? 0;
  const inspect = opts.inspect;
  let closed = false;
  return {
    kind: 'file',
    size: end - from,
    async pipe(sink) {
      const blocks = Math.ceil((end - from) / READ_BLOCK_BYTES);
      const depth = Math.max(1, Math.min(opts.depth ?? READ_AHEAD_BLOCKS, blocks));
      const leases = Array.from({ length: depth }, () => pool.acquire(READ_BLOCK_BYTES));
      const reads: Array<Promise<ReadBlock> | null> = new Array<Promise<ReadBlock> | null>(depth).fill(null);
      const sends: Array<Promise<void> | null> = new Array<Promise<void> | null>(depth).fill(null);
      let nextRead = from;
      const readInto = (slot: number, after: Promise<void> | null): void => {
        if (nextRead >= end) return;
        const offset = nextRead;
        const want = Math.min(READ_BLOCK_BYTES, end - offset);
        nextRead += want;
        const buf = leases[slot]!.buf;
        // The slot's block is read again only once the socket has taken its previous bytes.
        const read = (after ?? Promise.resolve()).then(async () => ({ offset, want, got: await readFully(handle, buf, want, offset) }));
        // Awaited in turn; a failure before then (stream stopped) must not go unhandled.
        read.catch(() => undefined);
        reads[slot] = read;
      };
      try {
        for (let slot = 0; slot < depth; slot++) readInto(slot, null);
        for (let k = 0; k < blocks; k++) {
          const slot = k % depth;
          const { offset, want, got } = await reads[slot]!;
          const block = leases[slot]!.buf.subarray(0, got);
          await inspect?.(block, offset, want);
          if (got !== want) throw new Error('file shrank while being sent');
          const sent = sink(block);
          sent.catch(() => undefined);
          sends[slot] = sent;
          readInto(slot, sent);
        }
        await Promise.all(sends);
      } finally {
        await Promise.allSettled([...reads, ...sends]);
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

/** Reads `want` bytes at `offset` into `buf`; fewer only at the end of the file. */
export async function readFully(handle: FileHandle, buf: Buffer, want: number, offset: number): Promise<number> {
  let got = 0;
  while (got < want) {
    const { bytesRead } = await handle.read(buf, got, want - got, offset + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got;
}
