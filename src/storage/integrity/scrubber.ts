import type { Logger } from 'pino';
import { ChunkNotFoundError, CorruptChunkError } from '../../errors.js';
import type { VerifiedChunk } from './verified-chunk.js';

/** What a scrub reads through: the store. */
export interface ScrubTarget {
  chunkIds(): string[];
  openVerified(chunkId: string): Promise<VerifiedChunk>;
  lastScrub(): Promise<number | null>;
  recordScrub(startedAt: number): Promise<void>;
}

export interface ScrubberOptions {
  /** A pass over every chunk starts this long after the previous one started. */
  readonly intervalMs: number;
  /** Bytes read per second at most, averaged over a pass, so clients are not starved of disk. */
  readonly rateBytesPerS: number;
  readonly log: Logger;
}

export interface Scrubber {
  /** Ends the pass under way (between two reads) and waits for it. */
  stop(): Promise<void>;
}

interface PassResult {
  complete: boolean;
  chunks: number;
  bytes: number;
  corrupt: number;
  unreadable: number;
}

/**
 * Finds bit rot before a client does: reads every chunk once per interval and checks it
 * against its checksums, quarantining (and so reporting) what does not match, exactly as a
 * retrieve would. The start of the last complete pass is kept in the chunk directory, so
 * restarts do not reset the schedule: a server restarted more often than the interval still
 * gets scrubbed. A server's first pass comes one interval after its first start.
 */
export function startScrubber(store: ScrubTarget, opts: ScrubberOptions): Scrubber {
  let stopped = false;
  let wake: (() => void) | null = null;

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      if (stopped || ms <= 0) return resolve();
      const timer = setTimeout(() => {
        wake = null;
        resolve();
      }, ms);
      timer.unref();
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const pass = async (): Promise<PassResult> => {
    const result: PassResult = { complete: false, chunks: 0, bytes: 0, corrupt: 0, unreadable: 0 };
    const started = Date.now();
    // The pass as a whole may not read faster than the rate: after each read, wait until the
    // bytes read so far are due.
    const pace = async (bytes: number): Promise<void> => {
      result.bytes += bytes;
      await sleep(started + (result.bytes * 1000) / opts.rateBytesPerS - Date.now());
      if (stopped) throw new PassStopped();
    };
    for (const chunkId of store.chunkIds()) {
      if (stopped) return result;
      try {
        const file = await store.openVerified(chunkId);
        try {
          await file.verifyAll('scrub', pace);
        } finally {
          await file.close();
        }
        result.chunks++;
      } catch (err) {
        if (err instanceof PassStopped) return result;
        if (err instanceof CorruptChunkError) result.corrupt++;
        else if (!(err instanceof ChunkNotFoundError)) {
          result.unreadable++;
          opts.log.error({ err, chunk_id: chunkId }, 'scrub could not read a chunk');
        }
      }
    }
    result.complete = true;
    return result;
  };

  const loop = async (): Promise<void> => {
    let last = await store.lastScrub();
    if (last === null) {
      last = Date.now();
      await store.recordScrub(last).catch((err: unknown) => opts.log.warn({ err }, 'cannot record the scrub schedule'));
    }
    while (!stopped) {
      await sleep(last + opts.intervalMs - Date.now());
      if (stopped) return;
      const started = Date.now();
      const result = await pass();
      if (!result.complete) return;
      last = started;
      // Recorded before the log line, so that whoever reads "finished" finds the schedule moved.
      await store.recordScrub(started).catch((err: unknown) => opts.log.warn({ err }, 'cannot record the scrub schedule'));
      opts.log.info(
        { chunks: result.chunks, bytes: result.bytes, corrupt: result.corrupt, unreadable: result.unreadable, duration_ms: Date.now() - started },
        'scrub pass finished',
      );
    }
  };

  const running = loop().catch((err: unknown) => opts.log.error({ err }, 'scrubber stopped by an error'));
  return {
    async stop() {
      stopped = true;
      wake?.();
      await running;
    },
  };
}

class PassStopped extends Error {}
