// Who holds which chunk, as the chunk servers say (GFS §2.6.2): built from their full
// reports and the changes their heartbeats carry, completed by what primaries tell the
// master (update_file_metadata, update_chunk_offset). Nothing here is persisted: a
// restarted master learns it again from the reports.
import type { ChunkChange, ChunkSummary } from '../wire/chunk-report.js';

/** One server's copy of a chunk. `digest` null: not reported yet (a primary's word, or a server that sends no reports). */
export interface Replica {
  length: number;
  version: number;
  digest: string | null;
  /** When the master last saw this copy change, in ms. */
  since: number;
  /** When its bytes were seen changing (a heartbeat's changes, a primary's word); 0 when only a full report showed it. */
  changedAt: number;
}

/**
 * The committed length was raised at `at`, to `length` (absent: the committed length);
 * `explicit`: the primary named every holder that has it, at the end it reported.
 */
export interface Raise {
  at: number;
  explicit: boolean;
  length?: number;
}

export class ChunkMap {
  private readonly chunks = new Map<string, Map<string, Replica>>();
  private readonly byServer = new Map<string, Set<string>>();
  /** Servers that sent a full report since they were last (re)registered: time of their last report or heartbeat. */
  private readonly reporting = new Map<string, number>();
  private readonly raises = new Map<string, Raise>();
  /** Servers that ever sent a full report: until they send the next one, their copies are not trusted. */
  private readonly everReported = new Set<string>();

  get size(): number {
    return this.chunks.size;
  }

  ids(): IterableIterator<string> {
    return this.chunks.keys();
  }

  replicas(chunkId: string): ReadonlyMap<string, Replica> | undefined {
    return this.chunks.get(chunkId);
  }

  chunksOn(address: string): ReadonlySet<string> {
    return this.byServer.get(address) ?? new Set();
  }

  raiseOf(chunkId: string): Raise | undefined {
    return this.raises.get(chunkId);
  }

  /** ms of the server's last report (full, or the changes of a heartbeat); undefined: it sends none. */
  lastReport(address: string): number | undefined {
    return this.reporting.get(address);
  }

  reports(address: string): boolean {
    return this.reporting.has(address);
  }

  /** A reporting server that came back from the dead and has not sent its full report yet. */
  awaitingReport(address: string): boolean {
    return this.everReported.has(address) && !this.reporting.has(address);
  }

  /** A full report: the server holds exactly these. */
  replace(address: string, report: readonly ChunkSummary[], now: number): void {
    const keep = new Set(report.map((c) => c.chunk_id));
    for (const id of [...this.chunksOn(address)]) if (!keep.has(id)) this.drop(id, address);
    for (const c of report) this.set(c.chunk_id, address, c, now, false);
    this.reporting.set(address, now);
    this.everReported.add(address);
  }

  /** A heartbeat of a reporting server: its changes since the last one. */
  changes(address: string, changes: readonly ChunkChange[], now: number): void {
    for (const c of changes) {
      if ('deleted' in c) this.drop(c.chunk_id, address);
      else this.set(c.chunk_id, address, c, now, true);
    }
    if (this.reporting.has(address)) this.reporting.set(address, now);
  }

  /** The server was declared dead or forgotten: its next report must be a full one. */
  unreported(address: string): void {
    this.reporting.delete(address);
  }

  /** `mutation`: the copy is known to have just changed (not merely listed in a full report). */
  set(chunkId: string, address: string, r: { length: number; version: number; digest: string | null }, now: number, mutation: boolean): void {
    let holders = this.chunks.get(chunkId);
    if (!holders) this.chunks.set(chunkId, (holders = new Map()));
    const old = holders.get(address);
    // Version 0 is "not told": a primary's word without one does not undo what a report proved.
    const same = old && old.length === r.length && (old.version === r.version || r.version === 0) && (old.digest === r.digest || r.digest === null);
    // A digest arriving for bytes a primary announced is the same change, not a new one.
    const filled = old && old.digest === null && old.length === r.length && r.digest !== null;
    if (same) return this.index(chunkId, address);
    // A copy's version only grows on its server. A word of a mutation with an older version
    // than the one recorded was overtaken on its way: a heartbeat's change taken before a
    // forwarded record landed, arriving after the primary named this copy with it. Taken, it
    // would make a copy in step look short of the primary's end: stale, deleted, and left out
    // of the lease's forward list (issue 23). A full report still replaces what is recorded.
    if (mutation && old && old.version > 0 && r.version > 0 && r.version < old.version) return this.index(chunkId, address);
    const changedAt = mutation ? now : filled ? old.changedAt : 0;
    holders.set(address, { length: r.length, version: r.version, digest: r.digest, since: filled ? old.since : now, changedAt });
    this.index(chunkId, address);
  }

  private index(chunkId: string, address: string): void {
    let mine = this.byServer.get(address);
    if (!mine) this.byServer.set(address, (mine = new Set()));
    mine.add(chunkId);
  }

  drop(chunkId: string, address: string): void {
    const holders = this.chunks.get(chunkId);
    holders?.delete(address);
    if (holders?.size === 0) {
      this.chunks.delete(chunkId);
      this.raises.delete(chunkId);
    }
    this.byServer.get(address)?.delete(chunkId);
  }

  raise(chunkId: string, at: number, explicit: boolean, length?: number): void {
    this.raises.set(chunkId, length === undefined ? { at, explicit } : { at, explicit, length });
  }
}
