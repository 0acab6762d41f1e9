// Requests the master answers (shared/reference-protocol.md; field names are the
// reference's). Chunk servers send the first four kinds; reference clients the rest.
import type { ChunkChange, ChunkSummary } from '../wire/chunk-report.js';
import type { Location, SpaceInfo } from './nodes.js';

export interface RegisterChunkServerRequest {
  command: 'register_chunk_server';
  address: string;
  /** The reference chunk server sends none; such a server sits at (0, 0). */
  location: Location | null;
}

export interface HeartbeatRequest {
  command: 'heartbeat';
  address: string;
  location: Location | null;
  space_info: SpaceInfo | null;
  /** Chunks the server found corrupt and quarantined; our extension, which the reference ignores. */
  corrupt_chunks: string[];
  /** Our extensions (PROTOCOL.md, "Chunk reports"): everything held (null: not sent), changes since the last beat, copies that failed. */
  chunk_report: ChunkSummary[] | null;
  chunk_changes: ChunkChange[];
  failed_copies: { chunk_id: string; target: string }[];
}

export interface GetReplicaLocationsRequest {
  command: 'get_replica_locations';
  excluding: Set<string>;
  client_id: string | null;
}

export interface UpdateFileMetadataRequest {
  command: 'update_file_metadata';
  file_path: string;
  chunk_id: string;
  chunk_locations: string[];
  chunk_size: number;
  /** Not sent by the reference; ours send the client's chunk_index when it gave one. */
  chunk_index: number | null;
  /** The primary's view; the master decides from its own replication_factor. */
  pending_replication: boolean;
  /** The chunk's version after the store (our chunk servers with versioned storage); 0 when not sent. */
  version: number;
}

export interface RegisterClientRequest {
  command: 'register_client';
  client_id: string;
  location: Location;
}

export interface ClientHeartbeatRequest {
  command: 'client_heartbeat';
  client_id: string;
  location: Location | null;
}

export interface GetChunkServersRequest {
  command: 'get_chunk_servers';
  client_id: string | null;
}

export interface GetFileMetadataRequest {
  command: 'get_file_metadata';
  file_path: string;
}

export interface GetChunkLocationsRequest {
  command: 'get_chunk_locations';
  file_path: string;
  chunk_id: string;
}

export interface ListFilesRequest {
  command: 'list_files';
}

export interface AddFileRequest {
  command: 'add_file';
  file_path: string;
  total_size: number;
  chunk_ids: string[];
}

export interface UpdateChunkOffsetRequest {
  command: 'update_chunk_offset';
  file_path: string;
  chunk_id: string;
  offset: number;
  /** Ours: the chunk's new version (0 when not sent) and the holders that applied the append (null when not sent). */
  version: number;
  chunk_locations: string[] | null;
}

export interface DeleteFileRequest {
  command: 'delete_file';
  file_path: string;
}

export interface DecommissionServerRequest {
  command: 'decommission_server';
  address: string;
}

export interface ClusterStatusRequest {
  command: 'cluster_status';
}

export interface GetGraphDataRequest {
  command: 'get_graph_data';
}

export type MasterRequest =
  | RegisterChunkServerRequest
  | HeartbeatRequest
  | GetReplicaLocationsRequest
  | UpdateFileMetadataRequest
  | RegisterClientRequest
  | ClientHeartbeatRequest
  | GetChunkServersRequest
  | GetFileMetadataRequest
  | GetChunkLocationsRequest
  | ListFilesRequest
  | AddFileRequest
  | UpdateChunkOffsetRequest
  | GetGraphDataRequest
  | DeleteFileRequest
  | DecommissionServerRequest
  | ClusterStatusRequest;
export type MasterCommand = MasterRequest['command'];
export type MasterRequestOf<C extends MasterCommand> = Extract<MasterRequest, { command: C }>;
