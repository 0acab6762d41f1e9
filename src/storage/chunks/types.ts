import { createHash } from 'node:crypto';
import type { ChunkRecord } from './records.js';

export type { ChunkChange, ChunkSummary } from '../../wire/chunk-report.js';

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

/** Digest of (committed length, block sums): equal bytes give equal digests, whatever the history. */
export function digestOf(size: number, crcs: Uint32Array): string {
  const head = Buffer.alloc(8);
  head.writeBigUInt64BE(BigInt(size));
  const body = Buffer.alloc(crcs.length * 4);
  crcs.forEach((c, i) => body.writeUInt32BE(c, i * 4));
  return createHash('sha256').update(head).update(body).digest('hex').slice(0, 32);
}

export function nextVersion(old: ChunkRecord | undefined, requested: number | undefined): number {
  return requested ?? (old?.version ?? 0) + 1;
}
