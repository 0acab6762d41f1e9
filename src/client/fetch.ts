// One holder's copy of a chunk, read into a local file and checked (PROTOCOL.md, "Reads are
// checked"). A copy shorter than the master's recorded length is stale; a longer one (an
// append committed but not yet recorded) gives its first recorded-length bytes, and is
// checked whole.
import { createHash, type Hash } from 'node:crypto';
import { ChunkDigester } from '../wire/chunk-digest.js';
import type { CacheProof, ChunkCheck } from './read-check.js';
import type { FileHandle } from 'node:fs/promises';
import type { SpilledBin, SpillProvider, SpillTarget } from '../wire/payload.js';
import type { Progress } from './bounded.js';
import { MSG } from '../errors.js';
import { PeerError, replyCode } from '../net/peer-errors.js';
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
    private readonly digester: ChunkDigester,
    private readonly onBytes: (n: number) => void,
  ) {}

  write(piece: Buffer): void {
    if (!this.discarded) this.digester.update(piece);
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
  /** Over every byte of the copy, the recorded length's and any beyond. */
  readonly digester = new ChunkDigester();

  constructor(
    private readonly fh: FileHandle,
    private readonly base: number,
    private readonly expected: number,
    private readonly onBytes: (n: number) => void,
  ) {}

  open(size: number): SpillTarget {
    if (this.target) throw new Error('more than one large value in the reply');
    if (size < this.expected) throw new Error(`stale copy: ${size} of ${this.expected} bytes`);
    return (this.target = new RangeTarget(this.fh, this.base, this.expected, size, this.hash, this.digester, this.onBytes));
  }
}

export interface ChunkRef {
  readonly chunkId: string;
  /** Bytes the master records for it. */
  readonly size: number;
}


/**
 * One holder's answer (`prefix`: the sha256 of the recorded-length bytes it gave): `ok` bytes verified and in place; `bad` bytes that fail the check (the
 * holder is to be reported); `corrupt` the holder found its copy damaged itself (and reports
 * it); `unverified` bytes of a length the master has no digest for yet (an append it has not
 * heard of: ask it again); `failed` no usable answer.
 */
export type HolderOutcome =
  | { kind: 'ok'; proof: CacheProof; prefix: string }
  | { kind: 'unverified'; reason: string; prefix: string }
  | { kind: 'bad' | 'corrupt' | 'failed'; reason: string };

/**
 * Retrieves `chunk` from `holder` into `fh` at `base` and checks it: its first recorded-length
 * bytes hash to the chunk id (a chunk never appended to), or the whole copy has a length and
 * digest the master vouches for. The reply's own `version` is the holder's word and decides
 * nothing.
 */
export async function fetchFrom(call: SinkCaller, holder: string, chunk: ChunkRef, check: ChunkCheck, fh: FileHandle, base: number, progress: Progress): Promise<HolderOutcome> {
  const attempt = progress.attempt();
  const sink = new RangeSink(fh, base, chunk.size, attempt.add);
  const outcome = await receive(call, holder, chunk, sink);
  if (outcome !== null) {
    attempt.undo();
    return outcome;
  }
  const prefix = sink.hash.digest('hex');
  if (prefix === chunk.chunkId) return { kind: 'ok', proof: 'sha256', prefix };
  const got = sink.digester.result();
  const known = check.digests.filter((d) => d.length === got.length);
  if (known.some((d) => d.digest === got.digest)) return { kind: 'ok', proof: got, prefix };
  attempt.undo();
  if (known.length > 0) return { kind: 'bad', reason: `${holder}: bytes fail the chunk's check` };
  return { kind: 'unverified', reason: `${holder}: the master vouches for no copy of ${got.length} bytes yet`, prefix };
}

/** Null when the bytes are in place, to be checked; else why not. */
async function receive(call: SinkCaller, holder: string, chunk: ChunkRef, sink: RangeSink): Promise<HolderOutcome | null> {
  let reply: Reply;
  try {
    reply = await call(holder, { command: 'retrieve_chunk', chunk_id: chunk.chunkId }, sink);
  } catch (err) {
    if (err instanceof GfsError) throw err;
    return { kind: 'failed', reason: err instanceof PeerError ? err.message : `${holder}: ${(err as Error).message}` };
  }
  if (reply.status !== 'ok') {
    const kind = replyCode(reply.message)?.code === MSG.corruptChunk ? 'corrupt' : 'failed';
    return { kind, reason: `${holder}: ${String(reply.message)}` };
  }
  if (Buffer.isBuffer(reply.data) || reply.data instanceof Uint8Array) {
    // A small reply arrives whole, not through the sink.
    const data = Buffer.from(reply.data);
    if (data.length < chunk.size) return { kind: 'failed', reason: `${holder}: stale copy: ${data.length} of ${chunk.size} bytes` };
    const target = sink.open(data.length) as RangeTarget;
    target.write(data);
    await target.finish();
  }
  if (!sink.target || sink.target.written !== chunk.size) return { kind: 'failed', reason: `${holder}: reply without the chunk's bytes` };
  return null;
}
