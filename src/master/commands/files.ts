import { MSG, RequestError } from '../../errors.js';
import type { OkReply } from '../../wire/messages.js';
import type { FileMetadata } from '../namespace/namespace.js';
import type {
  AddFileRequest,
  DeleteFileRequest,
  GetChunkLocationsRequest,
  GetFileMetadataRequest,
  ListFilesRequest,
  UpdateChunkOffsetRequest,
  UpdateFileMetadataRequest,
} from '../messages.js';
import type { MasterContext } from './context.js';

/** update_file_metadata: a primary reports where a chunk it stored really lives. */
export async function updateFileMetadata(req: UpdateFileMetadataRequest, ctx: MasterContext): Promise<OkReply> {
  const { ns, map } = ctx;
  await ns.recordChunk(req.file_path, req.chunk_id, req.chunk_locations, req.chunk_size, req.chunk_index, req.version);
  const now = Date.now();
  const recorded = ns.get(req.file_path)?.chunk_locations[req.chunk_id] ?? [];
  for (const a of req.chunk_locations) map.set(req.chunk_id, a, { length: req.chunk_size, version: req.version, digest: null }, now, true);
  // A server that sends no reports is known only by this record: one the store left out no longer counts.
  for (const a of [...(map.replicas(req.chunk_id)?.keys() ?? [])]) {
    if (!recorded.includes(a) && !map.reports(a)) map.drop(req.chunk_id, a);
  }
  ctx.log.debug({ file_path: req.file_path, chunk_id: req.chunk_id, locations: req.chunk_locations }, 'chunk recorded');
  return { status: 'ok' };
}

/** The file as clients read it: holders from the chunk reports (stale copies never listed), pending copies. */
export function present(meta: FileMetadata, ctx: MasterContext): Record<string, unknown> {
  const servers = ctx.repairer.servers();
  const chunk_locations: Record<string, string[]> = {};
  const pending_replication: Record<string, number> = {};
  for (const id of new Set(meta.chunk_ids)) {
    const holders = ctx.repairer.holders(id, meta.chunk_locations[id] ?? [], servers);
    chunk_locations[id] = holders;
    const missing = ctx.repairer.missing(id, holders);
    if (missing > 0) pending_replication[id] = missing;
  }
  return { ...meta, chunk_locations, pending_replication };
}

/** get_file_metadata: the file's FileMetadata, or nil when there is no such file (as the reference). */
export async function getFileMetadata(req: GetFileMetadataRequest, ctx: MasterContext): Promise<OkReply> {
  const meta = ctx.ns.get(req.file_path);
  return { status: 'ok', metadata: meta === null ? null : present(meta, ctx) };
}

/** get_chunk_locations: current holders of a chunk of the file, live ones first; never a stale copy. */
export async function getChunkLocations(req: GetChunkLocationsRequest, ctx: MasterContext): Promise<OkReply> {
  const meta = ctx.ns.get(req.file_path);
  if (!meta || !meta.chunk_ids.includes(req.chunk_id)) return { status: 'ok', locations: [] };
  return { status: 'ok', locations: ctx.repairer.holders(req.chunk_id, meta.chunk_locations[req.chunk_id] ?? []) };
}

export async function listFiles(_req: ListFilesRequest, ctx: MasterContext): Promise<OkReply> {
  return { status: 'ok', files: ctx.ns.list() };
}

export async function addFile(req: AddFileRequest, ctx: MasterContext): Promise<OkReply> {
  await ctx.ns.addFile(req.file_path, req.total_size, req.chunk_ids);
  return { status: 'ok' };
}

/**
 * update_chunk_offset: the chunk now ends at `offset`. Our primaries add the new `version`
 * and the holders that applied the append: any other copy is stale at once. Without them
 * (a reference client), copies on servers that send no reports are taken to have it, and
 * the others are judged by their next report.
 */
export async function updateChunkOffset(req: UpdateChunkOffsetRequest, ctx: MasterContext): Promise<OkReply> {
  const { ns, map } = ctx;
  await ns.setOffset(req.file_path, req.chunk_id, req.offset, req.version);
  const now = Date.now();
  if (req.chunk_locations !== null) {
    for (const a of req.chunk_locations) map.set(req.chunk_id, a, { length: req.offset, version: req.version, digest: null }, now, true);
    map.raise(req.chunk_id, now, true);
  } else {
    for (const [a, r] of map.replicas(req.chunk_id) ?? []) {
      if (!map.reports(a) && r.length < req.offset) map.set(req.chunk_id, a, { length: req.offset, version: req.version, digest: null }, now, true);
    }
    map.raise(req.chunk_id, now + ctx.reportMarginMs, false);
  }
  return { status: 'ok' };
}

/** delete_file: the file leaves the namespace now; its chunks are deleted from every holder by the next repair passes. */
export async function deleteFile(req: DeleteFileRequest, ctx: MasterContext): Promise<OkReply> {
  const chunks = await ctx.ns.deleteFile(req.file_path);
  if (chunks === null) throw new RequestError(MSG.fileNotFound);
  ctx.repairer.fileDeleted(chunks);
  ctx.log.info({ file_path: req.file_path, chunks: chunks.length }, 'file deleted');
  return { status: 'ok' };
}
