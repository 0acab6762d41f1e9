// What the master tells a reader to check a chunk with, and what it does when a reader says
// a holder served bad bytes (PROTOCOL.md, "Reads are checked"). Pure: state in, answer out.
import { classify } from './replica-policy.js';
import type { ChunkView, ServerView } from './replica-policy.js';

/** A committed state of the chunk as its current holders reported it. */
export interface KnownDigest {
  readonly length: number;
  readonly digest: string;
}

/**
 * The chunk's current version and the (length, digest) pairs of the current copies whose
 * servers reported a digest. A copy only a primary spoke for (digest null) adds no pair: a
 * reader cannot check against it.
 */
export function readCheck(chunk: ChunkView, servers: ReadonlyMap<string, ServerView>): { version: number; digests: KnownDigest[] } {
  const c = classify(chunk, servers);
  const out = new Map<string, KnownDigest>();
  for (const address of c.current) {
    const r = chunk.replicas.get(address);
    if (r?.digest) out.set(`${r.length}/${r.digest}`, { length: r.length, digest: r.digest });
  }
  return { version: c.version, digests: [...out.values()] };
}

/**
 * Whether a reader's word that `address` served bad bytes is taken: that copy is then
 * forgotten (the chunk under-replicated, so repair copies it from a healthy holder). Only
 * while another current copy exists: a reader's report never leaves a chunk without one,
 * so a client that lies can at worst cause one extra copy.
 */
export function dropsReported(chunk: ChunkView, servers: ReadonlyMap<string, ServerView>, address: string): boolean {
  if (!chunk.replicas.has(address)) return false;
  return classify(chunk, servers).current.some((a) => a !== address);
}
