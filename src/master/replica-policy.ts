// The repair decision, as one pure function (state in, instructions out; GFS §4.3-4.5,
// HDFS's RedundancyMonitor): which copies are current, which are stale, which chunks are
// below the replication factor and where their copies go, what is garbage. No sockets, no
// clocks: tests call it with tables of cases. repair-scheduler.ts gathers the state and
// carries the instructions out.
import type { Raise, Replica } from './chunk-map.js';
import { fullness, spreadScore, type PlacementWeights } from './placement-policy.js';

export type ServerState = 'live' | 'dead' | 'decommissioning';

export interface ServerView {
  readonly address: string;
  readonly state: ServerState;
  readonly location: readonly [number, number];
  /** Bytes; total 0 = not told yet (no space check). */
  readonly total: number;
  readonly used: number;
  /** ms of its last chunk report; undefined for a server that sends none (the reference). */
  readonly lastReport?: number | undefined;
  /** It reports, came back, and has not sent its full report yet: its copies are not trusted. */
  readonly awaitingReport?: boolean;
}

export interface ChunkView {
  readonly chunk_id: string;
  /** Committed length; null when no file lists the chunk (garbage once the grace is over). */
  readonly length: number | null;
  readonly version: number;
  readonly replicas: ReadonlyMap<string, Replica>;
  readonly raise?: Raise | undefined;
  /** ms since when no file lists it; -Infinity for chunks of a deleted file. */
  readonly orphanSince?: number | undefined;
  /** A lease is in force: its primary tells the committed end (update_chunk_offset). */
  readonly leased?: boolean;
}

export interface InFlight {
  readonly chunk_id: string;
  readonly source: string;
  readonly target: string;
  readonly length: number;
}

export interface Copy {
  readonly chunk_id: string;
  readonly source: string;
  readonly target: string;
  readonly length: number;
  readonly version: number;
}

export type DeleteReason = 'stale' | 'excess' | 'orphan';

export interface Delete {
  readonly chunk_id: string;
  readonly address: string;
  readonly reason: DeleteReason;
  /** The copy the decision saw: a server whose copy changed since keeps it. */
  readonly length: number;
  readonly digest: string | null;
}

export interface RepairInput extends PlacementWeights {
  readonly now: number;
  readonly factor: number;
  readonly maxCopiesPerServer: number;
  readonly gcGraceMs: number;
  /** A copy that changed less than this ago is not deleted as stale or excess (its report may be racing an append). */
  readonly settleMs: number;
  readonly servers: ReadonlyMap<string, ServerView>;
  readonly chunks: Iterable<ChunkView>;
  readonly inflight: readonly InFlight[];
}

export interface RepairPlan {
  copies: Copy[];
  deletes: Delete[];
  /** Reports prove a longer committed length than recorded (an append the master was not told about). */
  adopt: { chunk_id: string; length: number; version: number }[];
  underReplicated: number;
  /** Chunks with no current copy on a server that is not dead. */
  lost: number;
}

export interface Classified {
  /** The committed length, raised to the longest reported copy. */
  readonly length: number;
  readonly version: number;
  /** Copies that hold the committed bytes. */
  readonly current: string[];
  /** Shorter copies whose server has not reported since the length was raised: not proven stale yet. */
  readonly behind: string[];
  /** Copies that missed a mutation: never listed, deleted, replaced. */
  readonly stale: string[];
  /** Copies on servers whose full report is awaited: not listed, not counted, not deleted. */
  readonly unknown: string[];
}

/**
 * The stale-replica rule (PROTOCOL.md, "Stale replicas"). The committed length is the
 * recorded one, or the longest reported copy if longer. A copy is current when it has that
 * length, a version not older than the newest among such copies (version 0: not told), and
 * the digest of the copy most recently seen changing (else the one most of them share; a tie
 * decides nothing). A copy short of the recorded length is stale. One short only of a longer
 * report is stale once its server reported after the length was raised and it is still short
 * of the end raised to, or at once when the primary named the holders that applied the change
 * and it is short of the end they were named at; until then it is behind.
 */
export function classify(chunk: ChunkView, servers: ReadonlyMap<string, ServerView>): Classified {
  let length = chunk.length ?? 0;
  for (const [address, r] of chunk.replicas) {
    const s = servers.get(address);
    if (s !== undefined && s.state !== 'dead' && !s.awaitingReport && r.length > length) length = r.length;
  }
  let version = chunk.version;
  for (const r of chunk.replicas.values()) if (r.length === length && r.version > version) version = r.version;
  const atLength = [...chunk.replicas].filter(([, r]) => r.length === length && (r.version === 0 || version === 0 || r.version >= version));
  const digest = currentDigest(atLength.map(([, r]) => r));
  const current: string[] = [];
  const behind: string[] = [];
  const stale: string[] = [];
  const unknown: string[] = [];
  for (const [address, r] of chunk.replicas) {
    if (servers.get(address)?.awaitingReport) {
      unknown.push(address);
      continue;
    }
    if (r.length === length) {
      const ok = (r.version === 0 || version === 0 || r.version >= version) && (digest === null || r.digest === null || r.digest === digest);
      (ok ? current : stale).push(address);
      continue;
    }
    if (r.length > length) {
      stale.push(address);
      continue;
    }
    const lastReport = servers.get(address)?.lastReport;
    // The primary's word proves stale only the copies short of the end it named them at. A
    // copy that has that end but is shorter than a holder's later report is behind: under
    // streaming record appends the heartbeats run ahead of the primary's batched word, and
    // judging it stale would drop a holder in step from the next lease's forward list, so
    // that later records are acknowledged on fewer copies (issue 23).
    // Nor does a report running ahead prove anything before the raise is recorded: a copy
    // that has the recorded end is behind (a primary's heartbeat reaches the master before
    // its update_chunk_offset, and a repair pass between the two would otherwise judge every
    // other holder stale, copy the chunk elsewhere and leave them out of the next lease). A
    // recorded raise proves stale the copies short of the end it raised to, once their server
    // reported after it.
    const raise = chunk.raise;
    const proven =
      raise === undefined
        ? r.length < (chunk.length ?? 0)
        : raise.explicit
          ? r.length < (raise.length ?? length)
          : lastReport !== undefined && lastReport > raise.at && r.length < (raise.length ?? length);
    (proven ? stale : behind).push(address);
  }
  return { length, version, current, behind, stale, unknown };
}

/**
 * Holders a reader may be sent to, best first: current copies on live servers, then on
 * dead ones (they may be back). Copies not yet proven stale are listed only when no live
 * server has a current one. A decommissioning server is listed only while the chunk lacks
 * `factor` current copies elsewhere.
 */
export function readableHolders(chunk: ChunkView, servers: ReadonlyMap<string, ServerView>, factor: number, prefer: readonly string[] = []): string[] {
  const c = classify(chunk, servers);
  const state = (a: string): ServerState => servers.get(a)?.state ?? 'dead';
  // Reference clients take the first holder as the primary of an append: keep the order the
  // primary recorded (itself first), not the order in which reports happened to arrive.
  const rank = (a: string): number => {
    const i = prefer.indexOf(a);
    return i < 0 ? prefer.length : i;
  };
  const current = [...c.current].sort((x, y) => rank(x) - rank(y));
  const live = current.filter((a) => state(a) === 'live');
  const decom = live.length >= factor ? [] : current.filter((a) => state(a) === 'decommissioning');
  const dead = current.filter((a) => state(a) === 'dead');
  const allLive = current.filter((a) => state(a) !== 'dead');
  const behind = allLive.length > 0 ? [] : c.behind.filter((a) => state(a) !== 'dead');
  return [...live, ...decom, ...dead, ...behind];
}

/**
 * The longer end reports prove, to be recorded as committed (an append the master was not
 * told about); null when none. Not while a lease is in force: the primary's heartbeat runs
 * ahead of the records its replicas applied, and an end only it holds, recorded, would make
 * every other copy stale if it then died. Otherwise the end at least two live copies reached,
 * or the longest copy's once its server has gone on reporting for `settleMs` after the others
 * last changed (a primary killed after its lease ran out, but not yet declared dead, has not).
 */
function adoptable(chunk: ChunkView, servers: ReadonlyMap<string, ServerView>, settleMs: number): number | null {
  if (chunk.leased || chunk.length === null) return null;
  const live = [...chunk.replicas]
    .filter(([a]) => servers.get(a)?.state === 'live' && !servers.get(a)?.awaitingReport)
    .sort(([, x], [, y]) => y.length - x.length);
  const [top, ...rest] = live;
  if (top === undefined) return null;
  const othersChanged = Math.max(-Infinity, ...rest.map(([, r]) => r.since));
  const reported = servers.get(top[0])?.lastReport;
  const alone = rest.length === 0 || (reported !== undefined && reported - othersChanged >= settleMs);
  const end = alone ? top[1].length : rest[0]![1].length;
  return end > chunk.length ? end : null;
}

function currentDigest(copies: readonly Replica[]): string | null {
  let newest: Replica | null = null;
  for (const r of copies) if (r.digest !== null && r.changedAt > 0 && (!newest || r.changedAt > newest.changedAt)) newest = r;
  if (newest) return newest.digest;
  const digests = new Map<string, number>();
  for (const r of copies) if (r.digest !== null) digests.set(r.digest, (digests.get(r.digest) ?? 0) + 1);
  const ranked = [...digests].sort((a, b) => b[1] - a[1]);
  return ranked.length > 0 && (ranked.length === 1 || ranked[0]![1] > ranked[1]![1]) ? ranked[0]![0] : null;
}

export function decide(input: RepairInput): RepairPlan {
  const { now, factor, servers } = input;
  const state = (a: string): ServerState => servers.get(a)?.state ?? 'dead';
  const load = new Map<string, number>();
  const incoming = new Map<string, number>();
  const pendingTargets = new Map<string, Set<string>>();
  const bump = (a: string): void => void load.set(a, (load.get(a) ?? 0) + 1);
  for (const f of input.inflight) {
    bump(f.source);
    bump(f.target);
    incoming.set(f.target, (incoming.get(f.target) ?? 0) + f.length);
    let s = pendingTargets.get(f.chunk_id);
    if (!s) pendingTargets.set(f.chunk_id, (s = new Set()));
    s.add(f.target);
  }
  const plan: RepairPlan = { copies: [], deletes: [], adopt: [], underReplicated: 0, lost: 0 };
  const settled = (r: Replica): boolean => now - r.since >= input.settleMs;
  const del = (chunk: ChunkView, address: string, reason: DeleteReason): void => {
    const r = chunk.replicas.get(address)!;
    plan.deletes.push({ chunk_id: chunk.chunk_id, address, reason, length: r.length, digest: r.digest });
  };

  const work: { chunk: ChunkView; c: Classified; live: string[]; need: number }[] = [];
  for (const chunk of input.chunks) {
    if (chunk.length === null) {
      if (chunk.orphanSince !== undefined && now - chunk.orphanSince >= input.gcGraceMs) {
        for (const a of chunk.replicas.keys()) if (state(a) !== 'dead') del(chunk, a, 'orphan');
      }
      continue;
    }
    const c = classify(chunk, servers);
    const adopted = adoptable(chunk, servers, input.settleMs);
    if (adopted !== null) plan.adopt.push({ chunk_id: chunk.chunk_id, length: adopted, version: c.version });
    const live = c.current.filter((a) => state(a) === 'live');
    const readable = c.current.filter((a) => state(a) !== 'dead');
    if (readable.length === 0) {
      plan.lost++;
      continue;
    }
    for (const a of c.stale) if (state(a) !== 'dead' && settled(chunk.replicas.get(a)!)) del(chunk, a, 'stale');
    const pending = pendingTargets.get(chunk.chunk_id)?.size ?? 0;
    // A copy merely behind (appends still reaching it) is not replaced: copying the chunk
    // elsewhere meanwhile only makes an extra copy that is stale as soon as it lands.
    const catching = c.behind.filter((a) => state(a) === 'live' && servers.get(a)?.lastReport !== undefined).length;
    const need = factor - live.length - pending - catching;
    if (live.length < factor) plan.underReplicated++;
    if (need > 0) work.push({ chunk, c, live, need });
    else if (live.length > factor && pending === 0) {
      const extra = live
        .filter((a) => settled(chunk.replicas.get(a)!))
        .sort((a, b) => fullness(servers.get(b)!) - fullness(servers.get(a)!) || (a < b ? 1 : -1))
        .slice(0, live.length - factor);
      for (const a of extra) del(chunk, a, 'excess');
    }
  }

  // Fewest live copies first (GFS §4.3); ties by id, so the order is stable between passes.
  work.sort((a, b) => a.live.length - b.live.length || (a.chunk.chunk_id < b.chunk.chunk_id ? -1 : 1));
  const cap = input.maxCopiesPerServer;
  for (const { chunk, c, need } of work) {
    const sources = c.current.filter((a) => state(a) !== 'dead');
    const taken = new Set<string>([...chunk.replicas.keys(), ...(pendingTargets.get(chunk.chunk_id) ?? [])]);
    const placed = c.current.filter((a) => state(a) !== 'dead').map((a) => servers.get(a)!.location);
    for (let k = 0; k < need; k++) {
      const source = sources.filter((a) => (load.get(a) ?? 0) < cap).sort((a, b) => (load.get(a) ?? 0) - (load.get(b) ?? 0))[0];
      if (source === undefined) break;
      let best: { s: ServerView; score: number } | null = null;
      for (const s of servers.values()) {
        if (s.state !== 'live' || taken.has(s.address) || (load.get(s.address) ?? 0) >= cap) continue;
        if (s.total > 0 && s.total - s.used - (incoming.get(s.address) ?? 0) < c.length) continue;
        const score = spreadScore(s, placed, input);
        if (!best || score < best.score || (score === best.score && s.address < best.s.address)) best = { s, score };
      }
      if (!best) break;
      const target = best.s.address;
      plan.copies.push({ chunk_id: chunk.chunk_id, source, target, length: c.length, version: c.version });
      bump(source);
      bump(target);
      incoming.set(target, (incoming.get(target) ?? 0) + c.length);
      taken.add(target);
      placed.push(best.s.location);
    }
  }
  return plan;
}
