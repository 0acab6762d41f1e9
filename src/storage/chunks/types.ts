import type { ChunkRecord } from './records.js';

export type { ChunkChange, ChunkSummary } from '../../wire/chunk-report.js';
export { digestOf } from '../../wire/chunk-digest.js';

/** Where a corruption was found; recorded with the quarantined chunk. */
export type FoundBy = 'retrieve' | 'scrub' | 'append' | 'start-up';

/** What identifies one version of a v1 chunk file (v1 prepared appends name their base by it). */
export interface ChunkIdentity {
  size: number;
  ino: string;
  mtime_ns: string;
}

/** A new version being built as a whole file with its v1-style sums file (prepare_chunk). */
export interface NewVersion {
  readonly data: string;
  readonly sums: string;
}

export function nextVersion(old: ChunkRecord | undefined, requested: number | undefined): number {
  return requested ?? (old?.version ?? 0) + 1;
}
