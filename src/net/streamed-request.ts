import type { Logger } from 'pino';
import { errorToReply, MSG } from '../errors.js';
import type { BufferPool, Lease } from '../wire/buffer-pool.js';
import type { Spill } from '../wire/body-walker.js';
import { decodeBody } from '../wire/codec.js';
import type { MemoryBudget } from '../wire/memory-budget.js';
import type { SpilledBin } from '../wire/payload.js';

type Reply = Record<string, unknown>;

export interface StreamedRequestOptions {
  /** Whether a command's request may carry spilled values as they are; others get them read back into memory. */
  readonly takesSpilled: (command: unknown) => boolean;
  /** Slabs for the values read back. */
  readonly pool: BufferPool;
  /** The frame bodies' memory (frame_memory_mb): a value read back is held like a body. */
  readonly budget: MemoryBudget;
  readonly log: Logger;
}

/**
 * A large frame: its spilled values are complete once their targets finish; they take the
 * place of the nils the skeleton holds for them. The targets are discarded before this
 * resolves, so a request that did not keep its data has released its space before its
 * reply goes out. Resolves with the reply, or null when the skeleton is not msgpack.
 */
export async function dispatchStreamed(
  skeleton: Buffer,
  spills: Spill[],
  dispatch: (decoded: unknown) => Promise<Reply>,
  opts: StreamedRequestOptions,
): Promise<Reply | null> {
  const leases: Lease[] = [];
  try {
    return await assemble(skeleton, spills, dispatch, opts, leases);
  } finally {
    for (const lease of leases) lease.release();
    await discardSpills(spills);
  }
}

export async function discardSpills(spills: Spill[]): Promise<void> {
  await Promise.all(spills.map(({ target }) => target.discard()));
}

/** Values read back into memory hold `leases`. */
async function assemble(
  skeleton: Buffer,
  spills: Spill[],
  dispatch: (decoded: unknown) => Promise<Reply>,
  opts: StreamedRequestOptions,
  leases: Lease[],
): Promise<Reply | null> {
  const values: Array<[string, SpilledBin | Buffer]> = [];
  for (const { key, target } of spills) {
    try {
      values.push([key, await target.finish()]);
    } catch (err) {
      const { reply, expected } = errorToReply(err);
      if (!expected) opts.log.error({ err }, 'storing a large value failed');
      return reply;
    }
  }
  let decoded: unknown;
  try {
    decoded = decodeBody(skeleton);
  } catch {
    return null;
  }
  if (typeof decoded === 'object' && decoded !== null) {
    const asIs = opts.takesSpilled((decoded as Record<string, unknown>).command);
    for (const [i, [key, spilled]] of values.entries()) {
      let value: Buffer | SpilledBin = spilled;
      if (!asIs && !Buffer.isBuffer(spilled)) {
        const held = hold(spilled.size, opts, leases);
        if (!held) {
          opts.log.warn({ key, bytes: spilled.size, held: opts.budget.held }, 'no memory to read back a spilled value');
          return { status: 'error', message: MSG.outOfMemory };
        }
        value = await readBack(spilled, held);
        // The bytes are in memory now: the temp file and its space reservation can go.
        await spills[i]!.target.discard();
      }
      Object.defineProperty(decoded, key, { value, enumerable: true, writable: true, configurable: true });
    }
  }
  return dispatch(decoded);
}

/**
 * Memory for a value read back, charged to the budget until its lease (kept in `leases`)
 * is released; null when the budget or the heap has no room. The frame was read whole, so
 * the refusal is a reply and the connection stays usable.
 */
function hold(bytes: number, opts: StreamedRequestOptions, leases: Lease[]): Buffer | null {
  try {
    opts.budget.take(bytes);
  } catch {
    return null;
  }
  let lease: Lease;
  try {
    lease = opts.pool.acquire(bytes);
  } catch {
    opts.budget.give(bytes);
    return null;
  }
  leases.push({
    buf: lease.buf,
    release: () => {
      opts.budget.give(bytes);
      lease.release();
    },
  });
  return lease.buf;
}

/** A spilled value as a Buffer, for commands that only take bytes in memory. */
async function readBack(spilled: SpilledBin, buf: Buffer): Promise<Buffer> {
  const body = spilled.fileBody();
  let at = 0;
  try {
    await body.pipe(async (block) => {
      at += block.copy(buf, at);
    });
  } finally {
    await body.close();
  }
  return buf;
}
