// What the cluster code needs of storage: the chunk summaries the master compares replicas by
// (storage's listChunks / summaryOf / onChange), so that cluster/ does not import the store itself.
import type { ChunkChange, ChunkSummary } from '../../storage/index.js';

export type { ChunkChange, ChunkSummary };

export interface SummarySource {
  listChunks(): ChunkSummary[];
  summaryOf(chunkId: string): ChunkSummary | undefined;
  onChange(listener: (c: ChunkChange) => void): () => void;
}
