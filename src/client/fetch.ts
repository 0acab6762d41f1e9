// Reading one chunk into a local file, verified end to end, from the first holder that
// gives good bytes. A copy shorter than the master's recorded length is stale; a longer one
// (an append committed but not yet recorded) gives its first recorded-length bytes.
import { createHash, type Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import type { SpilledBin, SpillProvider, SpillTarget } from '../wire/payload.js';
import type { Progress } from './bounded.js';
import { MSG, PeerError, replyCode } from '../errors.js';
import { GfsError } from './errors.js';
import type { Reply } from '../net/rpc.js';

const WRITE_BLOCK_BYTES = 1024 * 1024;

export type SinkCaller = (address: string, body: Reply, sink: SpillProvider) => Promise<Reply>;

/** Writes a reply's `data` into `fh` at `base`, at most `expected` bytes, hashing them. */
class RangeTarget implements SpillTarget {
  backlogBytes = 0;
  written = 0;
  private accepted = 0;
  private chain: Promise<void> = Promise.resolve();
  private error: Error | null = null;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private waiters: Array<{ bytes: number; resolve: () => void }> = [];
  private discarded = false;

  constructor(
    private readonly fh: FileHandle,
    private readonly base: number,
    private readonly expected: number,
    private readonly size: number,
    private readonly hash: Hash,
    private readonly onBytes: (n: number) => void,
  ) {}

  write(piece: Buffer): void {
    const part = piece.subarray(0, Math.max(0, this.expected - this.accepted));
    if (part.length === 0 || this.discarded) return;
    this.accepted += part.length;
    this.hash.update(part);
    this.backlogBytes += part.length;
    // Socket reads are small; they are gathered and written with one writev per block.
    this.pending.push(part);
    this.pendingBytes += part.length;
    if (this.pendingBytes >= WRITE_BLOCK_BYTES) this.flush();
  }

  private flush(): void {
    if (this.pendingBytes === 0) return;
    const parts = this.pending;
    const bytes = this.pendingBytes;
    const at = this.base + this.accepted - bytes;
    this.pending = [];
    this.pendingBytes = 0;
    this.chain = this.chain.then(async () => {
      if (this.error || this.discarded) return;
      try {
        const { bytesWritten } = await this.fh.writev(parts, at);
        if (bytesWritten !== bytes) throw new Error(`short write (${bytesWritten} of ${bytes} bytes)`);
        this.written += bytes;
        this.onBytes(bytes);
      } catch (err) {
        this.error = new GfsError('local_io', `cannot write the local file: ${(err as Error).message}`);
      } finally {
        this.backlogBytes -= bytes;
        this.wake();
      }
    });
  }

  private wake(): void {
    this.waiters = this.waiters.filter((w) => {
      if (this.backlogBytes > w.bytes && !this.error) return true;
      w.resolve();
      return false;
    });
  }

  drained(bytes: number): Promise<void> {
    if (this.backlogBytes <= bytes || this.error) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ bytes, resolve }));
  }

  async finish(): Promise<SpilledBin> {
    this.flush();
    await this.chain;
    if (this.error) throw this.error;
    const size = this.size;
    return {
      kind: 'spilled',
      size,
      fileBody: () => {
        throw new Error('chunk data was written to the local file');
      },
    };
  }

  async discard(): Promise<void> {
    this.discarded = true;
    await this.chain;
  }
}

class RangeSink implements SpillProvider {
  target: RangeTarget | null = null;
  readonly hash = createHash('sha256');

  constructor(
    private readonly fh: FileHandle,
    private readonly base: number,
    private readonly expected: number,
    private readonly onBytes: (n: number) => void,
  ) {}

  open(size: number): SpillTarget {
    if (this.target) throw new Error('more than one large value in the reply');
    if (size < this.expected) throw new Error(`stale copy: ${size} of ${this.expected} bytes`);
    return (this.target = new RangeTarget(this.fh, this.base, this.expected, size, this.hash, this.onBytes));
  }
}

export interface ChunkRef {
  readonly chunkId: string;
  /** Bytes the master records for it. */
  readonly size: number;
}

/**
 * Retrieves `chunk` from each of `holders` in turn until one copy verifies: its sha256 is
 * the chunk id, or, for a chunk that appends changed (its id is the hash of its first bytes),
 * it has the recorded length; the server checked it against its block sums before sending.
 * A copy reported at version 1 (never changed) must match its hash.
 */
export async function fetchChunk(call: SinkCaller, holders: string[], chunk: ChunkRef, fh: FileHandle, base: number, progress: Progress): Promise<string> {
  const reasons: string[] = [];
  let corrupt = 0;
  for (const holder of holders) {
    const attempt = progress.attempt();
    const sink = new RangeSink(fh, base, chunk.size, attempt.add);
    let reply: Reply;
    try {
      reply = await call(holder, { command: 'retrieve_chunk', chunk_id: chunk.chunkId }, sink);
    } catch (err) {
      attempt.undo();
      if (err instanceof GfsError) throw err;
      reasons.push(err instanceof PeerError ? err.message : `${holder}: ${(err as Error).message}`);
      continue;
    }
    if (reply.status !== 'ok') {
      attempt.undo();
      if (replyCode(reply.message)?.code === MSG.corruptChunk) corrupt++;
      reasons.push(`${holder}: ${String(reply.message)}`);
      continue;
    }
    if (Buffer.isBuffer(reply.data) || reply.data instanceof Uint8Array) {
      // A small reply arrives whole, not through the sink.
      const data = Buffer.from(reply.data);
      if (data.length < chunk.size) {
        attempt.undo();
        reasons.push(`${holder}: stale copy: ${data.length} of ${chunk.size} bytes`);
        continue;
      }
      const target = sink.open(data.length) as RangeTarget;
      target.write(data);
      await target.finish();
    }
    if (!sink.target || sink.target.written !== chunk.size) {
      attempt.undo();
      reasons.push(`${holder}: reply without the chunk's bytes`);
      continue;
    }
    const digest = sink.hash.digest('hex');
    if (digest === chunk.chunkId || reply.version !== 1) return holder;
    attempt.undo();
    corrupt++;
    reasons.push(`${holder}: bytes do not match the chunk id`);
  }
  if (holders.length === 0) throw new GfsError('chunk_unavailable', `chunk ${chunk.chunkId} has no holder`);
  if (corrupt === holders.length) throw new GfsError('chunk_corrupt', `chunk ${chunk.chunkId} failed verification on every holder (${reasons.join('; ')})`);
  throw new GfsError('chunk_unavailable', `chunk ${chunk.chunkId} could not be read from any holder (${reasons.join('; ')})`);
}

