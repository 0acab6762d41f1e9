import type { OkReply } from '../../wire/messages.js';
import type {
  AddFileRequest,
  GetChunkLocationsRequest,
  GetFileMetadataRequest,
  ListFilesRequest,
  UpdateChunkOffsetRequest,
  UpdateFileMetadataRequest,
} from '../messages.js';
import type { MasterContext } from './context.js';

/** update_file_metadata: a primary reports where a chunk it stored really lives. */
export async function updateFileMetadata(req: UpdateFileMetadataRequest, ctx: MasterContext): Promise<OkReply> {
  await ctx.meta.recordChunk(req.file_path, req.chunk_id, req.chunk_locations, req.chunk_size, req.chunk_index);
  const pending = ctx.meta.get(req.file_path)?.pending_replication[req.chunk_id];
  ctx.log.debug({ file_path: req.file_path, chunk_id: req.chunk_id, locations: req.chunk_locations, pending }, 'chunk recorded');
  return { status: 'ok' };
}

/** get_file_metadata: the file's FileMetadata, or nil when there is no such file (as the reference). */
export async function getFileMetadata(req: GetFileMetadataRequest, ctx: MasterContext): Promise<OkReply> {
  return { status: 'ok', metadata: ctx.meta.get(req.file_path) };
}

/** get_chunk_locations: holders of a chunk, live ones first so a reader tries them first. */
export async function getChunkLocations(req: GetChunkLocationsRequest, ctx: MasterContext): Promise<OkReply> {
  const all = ctx.meta.get(req.file_path)?.chunk_locations[req.chunk_id] ?? [];
  const live = all.filter((a) => ctx.nodes.isLive(a));
  return { status: 'ok', locations: [...live, ...all.filter((a) => !live.includes(a))] };
}

export async function listFiles(_req: ListFilesRequest, ctx: MasterContext): Promise<OkReply> {
  return { status: 'ok', files: ctx.meta.list() };
}

export async function addFile(req: AddFileRequest, ctx: MasterContext): Promise<OkReply> {
  await ctx.meta.addFile(req.file_path, req.total_size, req.chunk_ids);
  return { status: 'ok' };
}

export async function updateChunkOffset(req: UpdateChunkOffsetRequest, ctx: MasterContext): Promise<OkReply> {
  await ctx.meta.setOffset(req.file_path, req.chunk_id, req.offset);
  return { status: 'ok' };
}
