// Builders of the repair decision's input for the table tests (test/unit/master/replica-policy*.test.ts).
import type { Replica } from '../../src/master/chunk-map.js';
import type { ChunkView, RepairInput, ServerView } from '../../src/master/replica-policy.js';

export const NOW = 100_000;

export function servers(spec: Record<string, Partial<ServerView>>): Map<string, ServerView> {
  return new Map(
    Object.entries(spec).map(([a, s], i) => [a, { address: a, state: 'live', location: [i * 20, 0], total: 1000, used: 0, lastReport: NOW - 1, ...s } as ServerView]),
  );
}

export function rep(length: number, digest: string | null = 'd1', o: Partial<Replica> = {}): Replica {
  return { length, version: 0, digest, since: 0, changedAt: 0, ...o };
}

export function chunk(id: string, length: number | null, replicas: Record<string, Replica>, o: Partial<ChunkView> = {}): ChunkView {
  return { chunk_id: id, length, version: 0, replicas: new Map(Object.entries(replicas)), ...o };
}

export function input(s: Map<string, ServerView>, chunks: ChunkView[], o: Partial<RepairInput> = {}): RepairInput {
  return { now: NOW, factor: 3, maxCopiesPerServer: 2, gcGraceMs: 10_000, settleMs: 1000, distanceWeight: 0.6, spaceWeight: 0.4, servers: s, chunks, inflight: [], ...o };
}
