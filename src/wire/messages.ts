// Request and reply shapes of the commands a chunk server answers
// (protocol/PROTOCOL.md; field names are the Python reference's, verbatim).
import type { FileBody, Payload } from './payload.js';

export interface StoreChunkRequest {
  command: 'store_chunk';
  chunk_id: string;
  /** In memory for small frames; a staged temp file for large ones (stream_threshold_mb). */
  data: Payload;
  file_path: string | null;
  chunk_index: number | null;
  client_id: string | null;
  /** True when the sender is a primary (or the master) handing us a replica to keep. */
  isReplica: boolean;
  /** The chunk version to take (a primary forwarding its own); absent: the next one. */
  version: number | null;
}

export interface RetrieveChunkRequest {
  command: 'retrieve_chunk';
  chunk_id: string;
}

export interface DeleteChunkRequest {
  command: 'delete_chunk';
  chunk_id: string;
}

export interface CheckSpaceRequest {
  command: 'check_space';
  size: number;
}

export interface PrepareChunkRequest {
  command: 'prepare_chunk';
  chunk_id: string;
  transaction_id: string;
  data: Buffer;
  file_path: string | null;
}

export interface PrepareAppendRequest {
  command: 'prepare_append';
  chunk_id: string;
  transaction_id: string;
  data: Buffer;
  /** Where `data` goes in the new version; at most the chunk's current size. */
  offset: number;
}

/** commit_chunk, rollback_chunk, commit_append and rollback_append carry the same two ids. */
export interface TransactionRequest<C extends TransactionCommand> {
  command: C;
  chunk_id: string;
  transaction_id: string;
}
export type TransactionCommand = 'commit_chunk' | 'rollback_chunk' | 'commit_append' | 'rollback_append';

export interface AppendChunkRequest {
  command: 'append_chunk';
  chunk_id: string;
  data: Buffer;
  /** Where the client believes the chunk ends; the data always lands at the true end. */
  offset: number | null;
  file_path: string | null;
  /** True when a primary forwarded this append to us as a replica. */
  isReplica: boolean;
  /** The chunk version to take (a primary forwarding its own); absent: the next one. */
  version: number | null;
}

export interface ReplicateChunkRequest {
  command: 'replicate_chunk';
  /** The reference sends none and keys the chunk by sha256(data); when given it is used. */
  chunk_id: string;
  data: Buffer;
  file_path: string | null;
  chunk_index: number | null;
  /** The chain, as "host:port"; this server is `replica_servers[current_replica]`. */
  replica_servers: string[];
  current_replica: number;
  /** The chunk version to take (a primary forwarding its own); absent: the next one. */
  version: number | null;
}

export type Request =
  | StoreChunkRequest
  | RetrieveChunkRequest
  | DeleteChunkRequest
  | CheckSpaceRequest
  | PrepareChunkRequest
  | PrepareAppendRequest
  | AppendChunkRequest
  | TransactionRequest<'commit_chunk'>
  | TransactionRequest<'rollback_chunk'>
  | TransactionRequest<'commit_append'>
  | TransactionRequest<'rollback_append'>
  | ReplicateChunkRequest;
export type Command = Request['command'];
export type RequestOf<C extends Command> = Extract<Request, { command: C }>;

export type OkReply = { status: 'ok'; [field: string]: unknown };
export type RetrieveReply = { status: 'ok'; data: Buffer | FileBody; version?: number };
