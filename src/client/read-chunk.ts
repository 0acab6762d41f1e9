// Reading one chunk of a file: from the cache when it holds bytes the master still vouches
// for, else from its holders in turn until one copy passes the check (PROTOCOL.md, "Reads
// are checked"). A holder whose bytes fail is reported to the master and skipped.
import { setTimeout as sleep } from 'node:timers/promises';
import type { FileHandle } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Progress } from './bounded.js';
import type { ChunkCache } from './chunk-cache.js';
import { GfsError } from './errors.js';
import { fetchFrom, type ChunkRef, type HolderOutcome, type SinkCaller } from './fetch.js';
import type { ChunkPlace, MasterApi } from './master-api.js';

// Waits before asking the master again when it vouched for no copy a holder served (an
// append whose holders have not reported yet): about two heartbeats at the default 5 s.
const UNVERIFIED_WAITS_MS = [250, 500, 1000, 2000, 4000, 4000];

export interface ReadDeps {
  readonly master: MasterApi;
  readonly call: SinkCaller;
  readonly cache: ChunkCache | null;
  readonly log?: Logger | undefined;
}

/** Puts the chunk's first `chunk.size` bytes into `fh` at `base`, verified; throws chunk_unavailable or chunk_corrupt. */
/** `known`: where and what, from the file's metadata (read_checks): the first round asks the master nothing. */
export async function readChunk(deps: ReadDeps, remote: string, chunk: ChunkRef, fh: FileHandle, base: number, progress: Progress, known?: ChunkPlace): Promise<void> {
  for (let round = 0; ; round++) {
    const { locations, check } = round === 0 && known ? known : await deps.master.chunkRead(remote, chunk.chunkId);
    const cached = deps.cache?.get(chunk.chunkId, chunk.size, check);
    if (cached) {
      await writeAll(fh, cached, base);
      progress.add(cached.length);
      return;
    }
    const wait = UNVERIFIED_WAITS_MS[round];
    if (locations.length === 0) {
      // Asked again because a copy could not be checked yet: the holders may be moving between reports.
      if (round > 0 && wait !== undefined) {
        await sleep(wait);
        continue;
      }
      throw new GfsError('chunk_unavailable', `chunk ${chunk.chunkId} has no holder`);
    }
    const outcomes: HolderOutcome[] = [];
    const unchecked: Array<{ holder: string; prefix: string }> = [];
    for (const holder of locations) {
      const o = await fetchFrom(deps.call, holder, chunk, check, fh, base, progress);
      if (o.kind === 'ok') {
        // The committed bytes are one: a holder that gave others, unchecked then, gave bad ones.
        for (const u of unchecked) if (u.prefix !== o.prefix) await report(deps, remote, chunk.chunkId, u.holder);
        if (deps.cache?.fits(chunk.size)) deps.cache.put(chunk.chunkId, check.version, await readBack(fh, base, chunk.size), o.proof);
        return;
      }
      outcomes.push(o);
      if (o.kind === 'bad') await report(deps, remote, chunk.chunkId, holder);
      if (o.kind === 'unverified') unchecked.push({ holder, prefix: o.prefix });
    }
    const why = outcomes.map((o) => ('reason' in o ? o.reason : '')).join('; ');
    if (wait !== undefined && outcomes.some((o) => o.kind === 'unverified')) {
      deps.log?.info({ chunk_id: chunk.chunkId, why }, 'no copy the master vouches for yet; asking again');
      await sleep(wait);
      continue;
    }
    if (outcomes.every((o) => o.kind === 'bad' || o.kind === 'corrupt')) {
      throw new GfsError('chunk_corrupt', `chunk ${chunk.chunkId} failed verification on every holder (${why})`);
    }
    throw new GfsError('chunk_unavailable', `chunk ${chunk.chunkId} could not be read from any holder (${why})`);
  }
}

async function report(deps: ReadDeps, remote: string, chunkId: string, holder: string): Promise<void> {
  try {
    const dropped = await deps.master.reportCorrupt(remote, chunkId, holder);
    deps.log?.warn({ chunk_id: chunkId, holder, dropped }, 'holder served bytes that fail the check; reported to the master');
  } catch (err) {
    deps.log?.warn({ chunk_id: chunkId, holder, err: (err as Error).message }, 'could not report a bad copy to the master');
  }
}

async function writeAll(fh: FileHandle, bytes: Buffer, at: number): Promise<void> {
  for (let done = 0; done < bytes.length; ) {
    const { bytesWritten } = await fh.write(bytes, done, bytes.length - done, at + done);
    done += bytesWritten;
  }
}

async function readBack(fh: FileHandle, at: number, size: number): Promise<Buffer> {
  const bytes = Buffer.allocUnsafe(size);
  for (let done = 0; done < size; ) {
    const { bytesRead } = await fh.read(bytes, done, size - done, at + done);
    if (bytesRead === 0) throw new GfsError('local_io', 'the local file shrank while being read back');
    done += bytesRead;
  }
  return bytes;
}
