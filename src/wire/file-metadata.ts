// The reference's FileMetadata, as the master stores it and get_file_metadata returns it:
// one type for the master that keeps it and the clients that read it (by field name).

/** One file, with the reference's FileMetadata fields. */
export interface FileMetadata {
  file_path: string;
  total_size: number;
  chunk_ids: string[];
  /** chunk_id -> "host:port" of the servers last recorded as holders. */
  chunk_locations: Record<string, string[]>;
  /** chunk_id -> bytes written into the chunk (its end). */
  chunk_offsets: Record<string, number>;
  last_chunk_id: string | null;
  last_chunk_offset: number;
}

/** get_file_metadata's reply: the record, with the copies each chunk still lacks for the factor. */
export interface FileMetadataReply extends FileMetadata {
  pending_replication?: Record<string, number>;
}
