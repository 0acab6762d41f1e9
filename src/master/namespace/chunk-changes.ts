import type { Database, RootDatabase } from 'lmdb';
import type { FileMetadata } from '../../wire/file-metadata.js';
import { clone, emptyFile } from './file-record.js';

// How one file's record changes when a chunk of it is stored, grows or the file is renamed;
// Namespace (namespace.ts) decides when and keeps `pending`, these only compute and write.

/**
 * update_file_metadata on `old` (null: a new file): a new chunk is appended to the file; a
 * known one is replaced (its size counted once). With `chunkIndex` a chunk whose bytes repeat
 * an earlier one of the same file, and so has the same sha256 id, still takes its own place.
 */
export function withChunkRecorded(
  filePath: string,
  old: FileMetadata | null,
  chunkId: string,
  locations: string[],
  chunkSize: number,
  chunkIndex: number | null,
): FileMetadata {
  const meta = old ? clone(old) : emptyFile(filePath);
  const repeat = chunkIndex !== null && chunkIndex === meta.chunk_ids.length && meta.chunk_ids.includes(chunkId);
  const known = !repeat && meta.chunk_ids.includes(chunkId);
  if (!known) meta.chunk_ids.push(chunkId);
  meta.total_size += known ? chunkSize - (meta.chunk_offsets[chunkId] ?? 0) : chunkSize;
  meta.chunk_offsets[chunkId] = chunkSize;
  meta.chunk_locations[chunkId] = [...new Set([...(repeat ? meta.chunk_locations[chunkId]! : []), ...locations])];
  if (!known || meta.last_chunk_id === chunkId) {
    meta.last_chunk_id = chunkId;
    meta.last_chunk_offset = chunkSize;
  }
  return meta;
}

/** `old` with the chunk's committed length set to `length` (the file's size follows). */
export function withChunkLength(old: FileMetadata, chunkId: string, length: number): FileMetadata {
  const meta = clone(old);
  meta.total_size += length - (meta.chunk_offsets[chunkId] ?? 0);
  meta.chunk_offsets[chunkId] = length;
  if (meta.last_chunk_id === chunkId) meta.last_chunk_offset = length;
  return meta;
}

/** The stores a rename touches. */
export interface RenameStores {
  readonly env: RootDatabase;
  readonly files: Database<FileMetadata, string>;
  readonly refs: Database<string, string>;
}

/**
 * rename_file's write: the record under its new name and every index entry of its chunks,
 * in one lmdb transaction, so no reader, crash or restart sees both names or neither.
 */
export function renameInStore(stores: RenameStores, from: string, to: string, meta: FileMetadata, chunkIds: ReadonlySet<string>, also: () => void = () => undefined): Promise<unknown> {
  return stores.env.transaction(() => {
    stores.files.remove(from);
    stores.files.put(to, meta);
    for (const id of chunkIds) {
      stores.refs.remove(id, from);
      stores.refs.put(id, to);
    }
    also();
  });
}
