import type { Logger } from 'pino';
import type { ChunkStore } from '../../storage/index.js';
import { isSafeId } from '../../safe-name.js';
import type { Rpc } from '../../net/rpc.js';

type Instruction =
  | { op: 'delete'; chunk_id: string; length: number | null; digest: string | null; decidedBy: number }
  | { op: 'copy'; chunk_id: string; target: string; version: number };

const ADDRESS = /^.+:\d{1,5}$/;
// How long a chunk's last change is remembered for judging deletes: far longer than a delete
// waits in the master's queue (until the next beat; a server silent that long is dead, and
// the master drops what it queued for it).
const CHANGES_KEPT_MS = 10 * 60_000;

/** An instruction from a heartbeat reply, or null for one this server does not understand (logged). */
function parse(v: unknown, sentAt: number): Instruction | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  if (typeof o.chunk_id !== 'string' || !isSafeId(o.chunk_id)) return null;
  if (o.op === 'delete') {
    const length = typeof o.length === 'number' && Number.isSafeInteger(o.length) ? o.length : null;
    // The master says how long ago it decided (age_ms); the beat that brought it left at sentAt,
    // so the decision was made no later than sentAt - age on this server's clock, whatever the clocks' offset.
    const age = typeof o.age_ms === 'number' && Number.isFinite(o.age_ms) && o.age_ms > 0 ? o.age_ms : 0;
    return { op: 'delete', chunk_id: o.chunk_id, length, digest: typeof o.digest === 'string' ? o.digest : null, decidedBy: sentAt - age };
  }
  if (o.op === 'copy' && typeof o.target === 'string' && ADDRESS.test(o.target)) {
    const version = typeof o.version === 'number' && Number.isSafeInteger(o.version) && o.version > 0 ? o.version : 0;
    return { op: 'copy', chunk_id: o.chunk_id, target: o.target, version };
  }
  return null;
}

export interface InstructionRunnerOptions {
  readonly store: ChunkStore;
  readonly rpc: Rpc;
  /** Time for one copy (a store_chunk to the target), in ms. */
  readonly dataTimeoutMs: number;
  /** Instructions carried out at once; the rest wait their turn. */
  readonly parallel: number;
  readonly log: Logger;
}

/**
 * Carries out the master's instructions (PROTOCOL.md, "Instructions"): `delete` removes a
 * copy, unless it changed since the master judged it; `copy` sends this server's verified
 * copy to `target` as a replica store. Failed copies are handed back for the next heartbeat.
 */
export class InstructionRunner {
  private readonly queue: Instruction[] = [];
  private readonly queued = new Set<string>();
  private running = 0;
  private idle: Promise<void> = Promise.resolve();
  private wakeIdle: (() => void) | null = null;
  private failed: { chunk_id: string; target: string }[] = [];
  private stopped = false;

  /** When each chunk last changed here (stored, appended, copied in), for deletes judged before it. */
  private readonly changedAt = new Map<string, number>();
  private readonly unsubscribe: () => void;

  constructor(private readonly opts: InstructionRunnerOptions) {
    this.unsubscribe = opts.store.onChange((c) => {
      // Re-inserted, so the map stays in time order and the oldest go first.
      this.changedAt.delete(c.chunk_id);
      if ('deleted' in c) return;
      const now = Date.now();
      this.changedAt.set(c.chunk_id, now);
      for (const [id, at] of this.changedAt) {
        if (now - at <= CHANGES_KEPT_MS) break;
        this.changedAt.delete(id);
      }
    });
  }

  /** Instructions of a heartbeat's reply; `sentAt`: when that heartbeat left (this server's clock). */
  accept(list: unknown, sentAt = Date.now()): void {
    if (!Array.isArray(list)) return;
    for (const v of list) {
      const ins = parse(v, sentAt);
      if (!ins) {
        this.opts.log.warn({ instruction: v }, 'ignored an instruction this server does not understand');
        continue;
      }
      const key = `${ins.op}\0${ins.chunk_id}\0${ins.op === 'copy' ? ins.target : ''}`;
      if (this.queued.has(key)) continue;
      this.queued.add(key);
      this.queue.push(ins);
    }
    this.pump();
  }

  /** Copies that failed since the last call. */
  takeFailed(): { chunk_id: string; target: string }[] {
    const out = this.failed;
    this.failed = [];
    return out;
  }

  giveBackFailed(list: { chunk_id: string; target: string }[]): void {
    this.failed.push(...list);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe();
    this.queue.length = 0;
    if (this.running > 0) await this.idle;
  }

  private pump(): void {
    while (!this.stopped && this.running < this.opts.parallel && this.queue.length > 0) {
      const ins = this.queue.shift()!;
      if (this.running++ === 0) this.idle = new Promise((r) => (this.wakeIdle = r));
      void this.run(ins).finally(() => {
        this.queued.delete(`${ins.op}\0${ins.chunk_id}\0${ins.op === 'copy' ? ins.target : ''}`);
        if (--this.running === 0) this.wakeIdle?.();
        this.pump();
      });
    }
  }

  private async run(ins: Instruction): Promise<void> {
    const { log } = this.opts;
    try {
      if (ins.op === 'delete') await this.delete(ins);
      else await this.copy(ins);
    } catch (err) {
      log.warn({ op: ins.op, chunk_id: ins.chunk_id, err: (err as Error).message }, 'instruction failed');
      if (ins.op === 'copy') this.failed.push({ chunk_id: ins.chunk_id, target: ins.target });
    }
  }

  /** Judged under the chunk's lock: an append committing meanwhile is seen, and spares the copy. */
  private async delete(ins: Extract<Instruction, { op: 'delete' }>): Promise<void> {
    const { store, log } = this.opts;
    const existed = await store.deleteUnless(ins.chunk_id, (now) => {
      const differs = (ins.length !== null && now.length !== ins.length) || (ins.digest !== null && now.digest !== ins.digest);
      if (differs) log.info({ chunk_id: ins.chunk_id, length: now.length, judged_length: ins.length }, 'kept a copy the master judged before it changed');
      // Same bytes stored again after the master judged the old copy garbage (a file deleted,
      // then put again): the new copy is not the one judged, and the master judges again.
      const restored = (this.changedAt.get(ins.chunk_id) ?? -Infinity) >= ins.decidedBy;
      if (restored && !differs) log.info({ chunk_id: ins.chunk_id }, 'kept a copy stored after the master judged it');
      return differs || restored;
    });
    if (existed !== null) log.info({ chunk_id: ins.chunk_id, existed }, 'deleted chunk on the master\'s instruction');
  }

  /** Streams the committed copy, checked block by block (VerifiedChunk.body), never whole in memory. */
  private async copy(ins: Extract<Instruction, { op: 'copy' }>): Promise<void> {
    const { store, rpc, log } = this.opts;
    const file = await store.openVerified(ins.chunk_id);
    try {
      const request: Record<string, unknown> = { command: 'store_chunk', chunk_id: ins.chunk_id, data: file.body(), replica_servers: true };
      if (ins.version > 0) request.version = ins.version;
      const reply = await rpc.request(ins.target, request, this.opts.dataTimeoutMs);
      if (reply.status !== 'ok') throw new Error(`target refused: ${String(reply.message)}`);
    } finally {
      await file.close();
    }
    log.info({ chunk_id: ins.chunk_id, target: ins.target, bytes: file.size }, 'copied chunk on the master\'s instruction');
  }
}
