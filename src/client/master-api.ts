// The master's commands as the client uses them, with replies checked and failures turned
// into GfsErrors. Field names are the reference's (shared/reference-protocol.md).
import type { BufferPool } from '../wire/buffer-pool.js';
import type { FileMetadataReply } from '../wire/file-metadata.js';
import { MSG, PeerError, replyCode, UnknownCommandError } from '../errors.js';
import { ExchangeError } from '../net/exchange.js';
import { call, type CallOptions, type Reply } from '../net/rpc.js';
import { GfsError } from './errors.js';

/** The reference's FileMetadata, as get_file_metadata returns it. */
export type FileMetadata = FileMetadataReply;

export interface GraphNode {
  id: string;
  type: string;
  location: [number, number] | null;
  space_info: { total?: number; used?: number } | null;
}

export class MasterApi {
  constructor(
    readonly address: string,
    private readonly opts: CallOptions,
    private readonly pool: BufferPool,
  ) {}

  /** Sends one command; an error reply is returned for the caller to judge. */
  async raw(body: Reply): Promise<Reply> {
    try {
      return await call(this.address, body, this.opts, this.pool);
    } catch (err) {
      throw masterFailure(this.address, err);
    }
  }

  /** Sends one command and fails on any error reply. */
  async ok(body: Reply): Promise<Reply> {
    const reply = await this.raw(body);
    if (reply.status === 'ok') return reply;
    const message = String(reply.message ?? 'error without a message');
    if (replyCode(message)?.code === UnknownCommandError.code) throw new GfsError('unsupported', `the master at ${this.address} has no ${String(body.command)} command`);
    throw new GfsError('master_error', `master refused ${String(body.command)}: ${message}`);
  }

  async metadata(filePath: string): Promise<FileMetadata | null> {
    const reply = await this.ok({ command: 'get_file_metadata', file_path: filePath });
    return (reply.metadata as FileMetadata | null | undefined) ?? null;
  }

  async chunkLocations(filePath: string, chunkId: string): Promise<string[]> {
    const reply = await this.ok({ command: 'get_chunk_locations', file_path: filePath, chunk_id: chunkId });
    return Array.isArray(reply.locations) ? (reply.locations as string[]) : [];
  }

  /** Live chunk servers that take new chunks (all of them: the client registers no location). */
  async placementServers(): Promise<string[]> {
    return (await this.serverLists()).servers;
  }

  /** Every live chunk server, those being decommissioned included (they still hold and serve their chunks). */
  async liveServers(): Promise<string[]> {
    const { servers, decommissioning } = await this.serverLists();
    return [...servers, ...decommissioning];
  }

  private async serverLists(): Promise<{ servers: string[]; decommissioning: string[] }> {
    const reply = await this.ok({ command: 'get_chunk_servers', client_id: null });
    const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((a): a is string => typeof a === 'string') : []);
    return { servers: list(reply.servers), decommissioning: list(reply.decommissioning) };
  }

  async listFiles(): Promise<string[]> {
    const reply = await this.ok({ command: 'list_files' });
    return Array.isArray(reply.files) ? (reply.files as string[]) : [];
  }

  async graph(): Promise<GraphNode[]> {
    const reply = await this.ok({ command: 'get_graph_data' });
    const nodes = (reply.graph_data as { nodes?: GraphNode[] } | undefined)?.nodes;
    return Array.isArray(nodes) ? nodes : [];
  }

  async addFile(filePath: string, totalSize: number, chunkIds: string[]): Promise<void> {
    await this.ok({ command: 'add_file', file_path: filePath, total_size: totalSize, chunk_ids: chunkIds });
  }

  /** With `current`: only those holders have the chunk at `version`; any other copy is stale. */
  async updateChunkOffset(filePath: string, chunkId: string, offset: number, current?: { version: number; holders: readonly string[] }): Promise<void> {
    const named = current ? { version: current.version, chunk_locations: current.holders } : {};
    await this.ok({ command: 'update_chunk_offset', file_path: filePath, chunk_id: chunkId, offset, ...named });
  }

  /** delete_file (INTERFACES.md): file_not_found for an unknown path. */
  async deleteFile(filePath: string): Promise<void> {
    const reply = await this.raw({ command: 'delete_file', file_path: filePath });
    if (reply.status === 'ok') return;
    const code = replyCode(reply.message)?.code;
    if (code === MSG.fileNotFound) throw new GfsError('file_not_found', `no such file: ${filePath}`);
    if (code === UnknownCommandError.code) throw new GfsError('unsupported', `the master at ${this.address} cannot delete files (no delete_file command)`);
    throw new GfsError('master_error', `master refused delete_file: ${String(reply.message)}`);
  }

  /** decommission_server (INTERFACES.md): unknown_server for an address it does not know. */
  async decommission(address: string): Promise<void> {
    const reply = await this.raw({ command: 'decommission_server', address });
    if (reply.status === 'ok') return;
    const code = replyCode(reply.message)?.code;
    if (code === MSG.unknownServer) throw new GfsError('unknown_server', `the master knows no chunk server ${address}`);
    if (code === UnknownCommandError.code) throw new GfsError('unsupported', `the master at ${this.address} cannot decommission servers (no decommission_server command)`);
    throw new GfsError('master_error', `master refused decommission_server: ${String(reply.message)}`);
  }
}

/**
 * A failed call to the master as the GfsError a script can branch on: nobody there, somebody
 * who hung up or went silent, or somebody who speaks another protocol.
 */
function masterFailure(address: string, err: unknown): GfsError {
  const f = err instanceof ExchangeError ? err.failure : null;
  switch (f?.reason) {
    case 'ended':
    case 'closed':
      return closed(address);
    case 'socket-error':
      // A reset comes only from a peer that had accepted the connection.
      if (f.err.code === 'ECONNRESET' || f.err.code === 'EPIPE') return closed(address);
      break;
    case 'timeout':
      if (f.phase !== 'connect') return new GfsError('master_timeout', `the master at ${address} did not answer within ${f.ms / 1000} s`);
      break;
    case 'oversize':
    case 'not-a-map':
    case 'undecodable':
    case 'unusable':
    case 'refused':
      return new GfsError('not_gfs_master', `not a GFS master at ${address}`);
  }
  const why = err instanceof PeerError ? err.message : `${address}: ${(err as Error).message}`;
  return new GfsError('master_unreachable', `master unreachable (${why})`);
}

function closed(address: string): GfsError {
  return new GfsError('master_closed', `the master at ${address} closed the connection without a reply`);
}
