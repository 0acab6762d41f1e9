// What a reader checks a chunk against, and what proved cached bytes (PROTOCOL.md, section 6,
// "Reads are checked by the client too").

/** What the master vouches for (get_chunk_locations): the chunk's version, the committed states of its current copies. */
export interface ChunkCheck {
  readonly version: number;
  readonly digests: ReadonlyArray<{ length: number; digest: string }>;
}

/** What verified bytes: their sha256 is the chunk id, or the whole copy had this length and digest. */
export type CacheProof = 'sha256' | { readonly length: number; readonly digest: string };
