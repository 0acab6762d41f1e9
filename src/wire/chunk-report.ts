// A chunk as the cluster compares its copies (PROTOCOL.md, "Chunk reports"): what a chunk
// server's store lists and its heartbeats carry, and what the master's chunk map records.
// One definition, so the two sides cannot drift apart.

/** What the cluster knows of a chunk (INTERFACES.md). */
export interface ChunkSummary {
  chunk_id: string;
  length: number;
  version: number;
  digest: string;
}

/** One entry of a heartbeat's chunk_changes: a chunk as it is now, or gone. */
export type ChunkChange = ChunkSummary | { chunk_id: string; deleted: true };
