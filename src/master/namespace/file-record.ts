import type { FileMetadata } from '../../wire/file-metadata.js';

// A file's record as the namespace keeps it: the reference's FileMetadata, with maps keyed
// by chunk id that have no prototype, so an id such as `__proto__` (a valid name) is an
// ordinary key.
function dict<T>(from?: Record<string, T>): Record<string, T> {
  return Object.assign(Object.create(null) as Record<string, T>, from);
}

export function emptyFile(filePath: string): FileMetadata {
  return { file_path: filePath, total_size: 0, chunk_ids: [], chunk_locations: dict(), chunk_offsets: dict(), last_chunk_id: null, last_chunk_offset: 0 };
}

export function clone(m: FileMetadata): FileMetadata {
  return { ...m, chunk_ids: [...m.chunk_ids], chunk_locations: dict(m.chunk_locations), chunk_offsets: dict(m.chunk_offsets) };
}

/** Fills fields a file written by the reference master may lack; drops fields the namespace does not keep. */
export function normalise(filePath: string, m: Partial<FileMetadata>): FileMetadata {
  const base = emptyFile(filePath);
  return {
    file_path: filePath,
    total_size: m.total_size ?? base.total_size,
    chunk_ids: [...(m.chunk_ids ?? [])],
    chunk_locations: dict(m.chunk_locations),
    chunk_offsets: dict(m.chunk_offsets),
    last_chunk_id: m.last_chunk_id ?? null,
    last_chunk_offset: m.last_chunk_offset ?? 0,
  };
}
