import type { Logger } from 'pino';
import type { ChunkMap } from './chunk-map.js';
import type { Namespace } from './namespace/namespace.js';
import { Decommissions, type DecommissionProgress } from './decommissions.js';
import type { Members } from './members.js';
import type { Nodes } from './nodes.js';
import { PendingCopies, type CopyCounts } from './pending-copies.js';
import { PendingDeletes } from './pending-deletes.js';
import { classify, decide, readableHolders } from './replica-policy.js';
import type { ChunkView, ServerState, ServerView } from './replica-policy.js';

/** Work for one chunk server, carried by the reply to its heartbeat. */
export type Instruction =
  | { op: 'delete'; chunk_id: string; length: number; digest?: string; age_ms?: number }
  | { op: 'copy'; chunk_id: string; target: string; version: number; length: number };

export interface RepairSchedulerOptions {
  readonly ns: Namespace;
  readonly map: ChunkMap;
  readonly nodes: Nodes;
  /** Servers known across restarts: listed (dead when silent) until forgotten. */
  readonly members: Members;
  readonly factor: number;
  readonly maxCopiesPerServer: number;
  readonly gcGraceMs: number;
  readonly settleMs: number;
  /** See MasterContext.reportMarginMs. */
  readonly reportMarginMs: number;
  /** A copy or delete not seen in a report after this long is given up (and may be issued again). */
  readonly instructionTimeoutMs: number;
  readonly distanceWeight: number;
  readonly spaceWeight: number;
  readonly log: Logger;
  readonly now?: () => number;
  /** Whether a lease is in force on the chunk (its primary tells the committed end). */
  readonly leased?: (chunkId: string) => boolean;
}

const MAX_INSTRUCTIONS_PER_BEAT = 1000;

/**
 * The master's side of repair: builds the state the pure decision (replica-policy.ts) needs,
 * runs it, and queues what it decided for the servers' next heartbeats. Copies in flight and
 * deletes asked for are remembered until a report shows them done, or until they time out.
 */
export class RepairScheduler {
  /** Instructions waiting for each server's next heartbeat, with when they were decided. */
  private readonly outbox = new Map<string, Array<{ op: Instruction; at: number }>>();
  private readonly copies: PendingCopies;
  private readonly deletes: PendingDeletes;
  private readonly orphanSince = new Map<string, number>();
  private readonly decommissioning: Decommissions;
  private readonly seen = new Set<string>();
  private readonly now: () => number;
  private last = { underReplicated: 0, lost: 0 };

  constructor(private readonly opts: RepairSchedulerOptions) {
    this.now = opts.now ?? Date.now;
    this.copies = new PendingCopies(opts.instructionTimeoutMs);
    this.deletes = new PendingDeletes(opts.instructionTimeoutMs);
    this.decommissioning = new Decommissions(opts.ns);
  }

  serverState(address: string): ServerState {
    if (!this.opts.nodes.isLive(address)) return 'dead';
    return this.decommissioning.has(address) ? 'decommissioning' : 'live';
  }

  servers(): Map<string, ServerView> {
    const out = new Map<string, ServerView>();
    for (const s of this.opts.nodes.live()) {
      this.seen.add(s.address);
      out.set(s.address, {
        address: s.address,
        state: this.serverState(s.address),
        location: s.location,
        total: s.space?.total ?? 0,
        used: s.space?.used ?? 0,
        lastReport: this.opts.map.lastReport(s.address),
        awaitingReport: this.opts.map.awaitingReport(s.address),
      });
    }
    return out;
  }

  chunkView(chunkId: string): ChunkView {
    const { ns, map } = this.opts;
    const replicas = map.replicas(chunkId) ?? new Map();
    if (!ns.isReferenced(chunkId)) return { chunk_id: chunkId, length: null, version: 0, replicas, orphanSince: this.orphanSince.get(chunkId) };
    const record = ns.chunk(chunkId);
    let length = record?.length;
    if (length === undefined) {
      length = 0;
      for (const path of ns.filesOf(chunkId)) length = Math.max(length, ns.get(path)?.chunk_offsets[chunkId] ?? 0);
    }
    return { chunk_id: chunkId, length, version: record?.version ?? 0, replicas, raise: map.raiseOf(chunkId), leased: this.opts.leased?.(chunkId) ?? false };
  }

  /** Holders a reader may use, from reports; `recorded` (the namespace's list) when no server reported the chunk. */
  holders(chunkId: string, recorded: readonly string[], servers = this.servers()): string[] {
    if (!this.opts.map.replicas(chunkId)) {
      const live = recorded.filter((a) => this.opts.nodes.isLive(a));
      return [...live, ...recorded.filter((a) => !live.includes(a))];
    }
    return readableHolders(this.chunkView(chunkId), servers, this.opts.factor, recorded);
  }

  /** Copies still missing for the factor (0 when none), for pending_replication. */
  missing(chunkId: string, holders: readonly string[]): number {
    const live = holders.filter((a) => this.serverState(a) === 'live').length;
    return Math.max(0, this.opts.factor - live);
  }

  /** One decision over every chunk that some server reported; queues the instructions. */
  async pass(): Promise<void> {
    const now = this.now();
    const { map, ns, log } = this.opts;
    this.copies.expire(now);
    this.deletes.expire(now);
    const servers = this.servers();
    for (const address of this.decommissioning.list()) if (this.seen.has(address) && !servers.has(address) && this.remaining(address, servers) === 0) await this.finishDecommission(address);
    const chunks: ChunkView[] = [];
    for (const id of map.ids()) {
      const view = this.chunkView(id);
      if (view.length === null) {
        if (!this.orphanSince.has(id)) this.orphanSince.set(id, now);
        chunks.push({ ...view, orphanSince: this.orphanSince.get(id) });
      } else {
        this.orphanSince.delete(id);
        chunks.push(view);
      }
    }
    for (const id of this.orphanSince.keys()) if (!map.replicas(id)) this.orphanSince.delete(id);
    const plan = decide({
      now,
      factor: this.opts.factor,
      maxCopiesPerServer: this.opts.maxCopiesPerServer,
      gcGraceMs: this.opts.gcGraceMs,
      settleMs: this.opts.settleMs,
      distanceWeight: this.opts.distanceWeight,
      spaceWeight: this.opts.spaceWeight,
      servers,
      chunks,
      inflight: this.copies.all(),
    });
    this.last = { underReplicated: plan.underReplicated, lost: plan.lost };
    for (const a of plan.adopt) {
      log.warn({ chunk_id: a.chunk_id, length: a.length }, 'reports show a longer chunk than recorded; committed length raised');
      await ns.setLength(a.chunk_id, a.length, a.version);
      map.raise(a.chunk_id, now + this.opts.reportMarginMs, false, a.length);
    }
    for (const c of plan.copies) {
      this.copies.add(c, now);
      this.queue(c.source, { op: 'copy', chunk_id: c.chunk_id, target: c.target, version: c.version, length: c.length });
      log.info({ chunk_id: c.chunk_id, source: c.source, target: c.target }, 'copy instructed');
    }
    for (const d of plan.deletes) {
      if (this.deletes.has(d.chunk_id, d.address)) continue;
      this.deletes.add(d.chunk_id, d.address, now);
      const op: Instruction = { op: 'delete', chunk_id: d.chunk_id, length: d.length };
      if (d.digest !== null) op.digest = d.digest;
      this.queue(d.address, op);
      log.info({ chunk_id: d.chunk_id, address: d.address, reason: d.reason }, 'delete instructed');
    }
  }

  /** Instructions for the server, removed from its queue. */
  take(address: string): Instruction[] {
    const queued = this.outbox.get(address);
    if (!queued || queued.length === 0) return [];
    const now = this.now();
    // A delete says how old its judgement is: the server keeps a copy stored since (see stored()).
    return queued.splice(0, MAX_INSTRUCTIONS_PER_BEAT).map(({ op, at }) => (op.op === 'delete' ? { ...op, age_ms: Math.max(0, now - at) } : op));
  }

  /** A report shows the server holding the chunk (a copy landed) or not holding it (a delete done). */
  observed(address: string, chunkId: string, holds: boolean): void {
    if (holds) this.copies.done(chunkId, address);
    else this.deletes.done(chunkId, address);
  }

  /**
   * A server reports a copy it just stored or changed. Garbage stored again (the same bytes put
   * again after their file was deleted: chunk ids are content hashes) is a new upload in
   * flight: its grace starts over and deletes judged on the old copy are not sent.
   */
  stored(address: string, chunkId: string): void {
    if (this.opts.ns.isReferenced(chunkId) || !this.orphanSince.has(chunkId)) return;
    this.orphanSince.set(chunkId, this.now());
    const queued = this.outbox.get(address);
    if (!queued) return;
    const kept = queued.filter(({ op }) => !(op.op === 'delete' && op.chunk_id === chunkId));
    if (kept.length !== queued.length) {
      this.outbox.set(address, kept);
      this.deletes.done(chunkId, address);
    }
  }

  copyFailed(chunkId: string, target: string): void {
    this.copies.failed(chunkId, target);
  }

  /** Repair copies started, landed and given up since the master started (the metrics' counters). */
  copyCounts(): CopyCounts {
    return this.copies.totals();
  }

  /** The server is dead or forgotten: what was queued for it, or in flight through it, is void. */
  serverGone(address: string): void {
    this.outbox.delete(address);
    this.copies.serverGone(address);
    this.deletes.serverGone(address);
  }

  /** Chunks of a deleted file that no other file lists are garbage at once (no grace). */
  fileDeleted(chunkIds: readonly string[]): void {
    for (const id of chunkIds) if (!this.opts.ns.isReferenced(id)) this.orphanSince.set(id, -Infinity);
  }

  /** decommission_server: resolves once the decommission is recorded durably. */
  async decommission(address: string): Promise<void> {
    await this.decommissioning.start(address);
  }

  /** Decommissions in progress, as recorded (placement leaves them out; the start-up log names them). */
  decommissions(): string[] {
    return this.decommissioning.list();
  }

  /**
   * Chunks on the server that still need its copy: a current copy there, and fewer than
   * the factor current copies on live servers elsewhere.
   */
  remaining(address: string, servers = this.servers()): number {
    return this.needed(address, servers).chunks;
  }

  /** remaining()'s chunks and the bytes they hold (what the other servers must take). */
  needed(address: string, servers = this.servers()): { chunks: number; bytes: number } {
    let chunks = 0;
    let bytes = 0;
    for (const id of this.opts.map.chunksOn(address)) {
      const view = this.chunkView(id);
      if (view.length === null) continue;
      const c = classify(view, servers);
      if (!c.current.includes(address)) continue;
      if (c.current.filter((a) => a !== address && servers.get(a)?.state === 'live').length < this.opts.factor) {
        chunks++;
        bytes += view.length;
      }
    }
    return { chunks, bytes };
  }

  /** Chunks left on a server being decommissioned and the ETA (cluster_status, decommission_server). */
  decommissionProgress(address: string, servers = this.servers()): DecommissionProgress {
    return this.decommissioning.progress(address, this.remaining(address, servers), this.now());
  }

  /**
   * A decommissioned server that stopped, with nothing it held still needed: the decommission
   * is over. Its copies are forgotten, so it is never listed again as a (dead) holder; if it
   * comes back, it is a new server whose full report counts as any other.
   */
  private async finishDecommission(address: string): Promise<void> {
    await this.decommissioning.finish(address);
    for (const id of [...this.opts.map.chunksOn(address)]) this.opts.map.drop(id, address);
    this.opts.log.info({ address }, 'decommission finished: the server stopped with nothing under-replicated; forgotten');
  }

  /** forget_server: a server gone for good leaves the store, then the lists, its copies and any decommission with it. */
  async forget(address: string): Promise<void> {
    await this.opts.members.forget(address);
    if (this.decommissioning.has(address)) await this.decommissioning.finish(address);
    this.seen.delete(address);
    for (const id of [...this.opts.map.chunksOn(address)]) this.opts.map.drop(id, address);
    this.serverGone(address);
  }

  /** cluster_status: servers and chunk health. */
  status(): Record<string, unknown> {
    const { map, nodes, members } = this.opts;
    const servers = this.servers();
    const live = new Set(nodes.live().map((s) => s.address));
    const rows = [];
    for (const address of new Set([...this.seen, ...live, ...members.addresses()])) {
      const s = nodes.server(address) ?? members.get(address);
      const chunks = map.chunksOn(address);
      const progress = this.decommissioning.has(address) ? this.decommissionProgress(address, servers) : null;
      rows.push({
        address,
        state: this.serverState(address),
        location: s?.location ?? null,
        space_info: s?.space ? { total: s.space.total, used: s.space.used, available: s.space.total - s.space.used } : null,
        chunks: chunks.size,
        reports: map.reports(address),
        ...(progress ? { decommission_remaining: progress.chunks_left, decommissioned: progress.chunks_left === 0, decommission: progress } : {}),
      });
    }
    let healthy = 0;
    let under = 0;
    let lost = 0;
    let stale = 0;
    let orphaned = 0;
    for (const id of map.ids()) {
      const view = this.chunkView(id);
      if (view.length === null) {
        orphaned++;
        continue;
      }
      const h = readableHolders(view, servers, this.opts.factor);
      const liveCount = h.filter((a) => servers.get(a)?.state === 'live').length;
      stale += [...view.replicas.keys()].filter((a) => !h.includes(a)).length;
      if (h.filter((a) => servers.has(a)).length === 0) lost++;
      else if (liveCount < this.opts.factor) under++;
      else healthy++;
    }
    return {
      replication_factor: this.opts.factor,
      servers: rows,
      chunks: { total: map.size, healthy, under_replicated: under, lost, orphaned, stale_replicas: stale, copies_in_flight: this.copies.size, deletes_pending: this.deletes.size },
      files: this.opts.ns.size,
      last_pass: this.last,
    };
  }

  private queue(address: string, op: Instruction): void {
    let q = this.outbox.get(address);
    if (!q) this.outbox.set(address, (q = []));
    q.push({ op, at: this.now() });
  }
}
