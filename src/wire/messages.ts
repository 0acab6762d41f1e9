// Request and reply shapes of the commands a chunk server answers
// (protocol/PROTOCOL.md; field names are the Python reference's, verbatim).
import type { FileBody } from './codec.js';
import type { Payload } from './spill.js';

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

export type Request = StoreChunkRequest | RetrieveChunkRequest | DeleteChunkRequest | CheckSpaceRequest;
export type Command = Request['command'];
export type RequestOf<C extends Command> = Extract<Request, { command: C }>;

export type OkReply = { status: 'ok'; [field: string]: unknown };
export type RetrieveReply = { status: 'ok'; data: Buffer | FileBody };
