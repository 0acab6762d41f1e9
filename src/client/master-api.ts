// The master's commands as the client uses them, with replies checked and failures turned
// into GfsErrors. Field names are the reference's (shared/reference-protocol.md).
import type { BufferPool } from '../wire/buffer-pool.js';
import type { FileMetadataReply } from '../wire/file-metadata.js';
import { DecommissionRefusedError, InvalidPathError, MSG, UnknownCommandError } from '../errors.js';
import { PeerError, replyCode } from '../net/peer-errors.js';
import { ExchangeError } from '../net/exchange.js';
import { following } from '../net/follow-leader.js';
import { call, type CallOptions, type Reply } from '../net/rpc.js';
import { GfsError } from './errors.js';
import type { ChunkCheck } from './read-check.js';

/** The reference's FileMetadata, as get_file_metadata returns it. */
export type FileMetadata = FileMetadataReply;

export interface GraphNode {
  id: string;
  type: string;
  location: [number, number] | null;
  space_info: { total?: number; used?: number } | null;
}

// Several masters over etcd: how long a command keeps looking for the leader while masters
// answer not_leader without naming one (an election takes about one lease TTL), and the
// pause between tries.
const LEADER_WAIT_MS = 30_000;
const LEADER_RETRY_MS = 200;
// The replication factor is a master setting: a restart with another one shows within a minute.
const FACTOR_TTL_MS = 60_000;

/** One master as `gfs masters` shows it (master_status). */
export interface MasterState {
  address: string;
  role: 'single' | 'leader' | 'standby' | 'unreachable';
  leader: string | null;
  /** ms since the epoch when it began to lead. */
  since: number | null;
  error?: string;
}

export class MasterApi {
  private readonly masters: string[];
  private current = 0;
  private factor: { value: number | null; at: number } | null = null;

  /** `masters`: one "host:port", or several separated by commas (a cluster over etcd: any of them, the client finds the leader). */
  constructor(
    masters: string,
    private readonly opts: CallOptions,
    private readonly pool: BufferPool,
  ) {
    this.masters = masters.split(',').map((m) => m.trim()).filter((m) => m.length > 0);
    if (this.masters.length === 0) this.masters.push(masters);
  }

  /** The master commands go to: the leader last found. */
  get address(): string {
    return this.masters[this.current]!;
  }

  /**
   * Sends one command; an error reply is returned for the caller to judge. With several
   * masters, a not_leader reply sends it on to the leader it names (protocol/PROTOCOL.md,
   * "Several masters"), and a master that cannot be reached to the next one listed.
   */
  async raw(body: Reply): Promise<Reply> {
    const deadline = Date.now() + LEADER_WAIT_MS;
    let unreachable = 0;
    for (;;) {
      const address = this.address;
      let reply: Reply;
      try {
        // Marked as following not_leader: a standby answers it so, instead of proxying it.
        reply = await call(address, following(body), this.opts, this.pool);
      } catch (err) {
        if (this.masters.length === 1 || ++unreachable >= this.masters.length) throw masterFailure(address, err);
        this.current = (this.current + 1) % this.masters.length;
        await new Promise((r) => setTimeout(r, LEADER_RETRY_MS));
        continue;
      }
      if (reply.message !== 'not_leader' || (this.masters.length === 1 && typeof reply.leader !== 'string')) return reply;
      if (Date.now() > deadline) return reply;
      unreachable = 0;
      if (typeof reply.leader === 'string' && reply.leader !== address) {
        if (!this.masters.includes(reply.leader)) this.masters.push(reply.leader);
        this.current = this.masters.indexOf(reply.leader);
        continue;
      }
      // An election under way: ask the next one after a pause.
      this.current = (this.current + 1) % this.masters.length;
      await new Promise((r) => setTimeout(r, LEADER_RETRY_MS));
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

  /**
   * Where to read a chunk and what to check it against: the holders, and (ours) the chunk's
   * version and the (length, digest) of its current copies; a master without them vouches for none.
   */
  async chunkRead(filePath: string, chunkId: string): Promise<ChunkPlace> {
    const reply = await this.ok({ command: 'get_chunk_locations', file_path: filePath, chunk_id: chunkId });
    return { locations: addressList(reply.locations), check: checkOf(reply) };
  }

  /**
   * The file and, from our master, where to read each chunk and what to check it against (read_checks),
   * so a small file's get asks the master once; `places` is empty from a master that does not say.
   */
  async metadataForRead(filePath: string): Promise<{ meta: FileMetadata | null; places: Map<string, ChunkPlace> }> {
    const reply = await this.ok({ command: 'get_file_metadata', file_path: filePath, read_checks: true });
    const meta = (reply.metadata as FileMetadata | null | undefined) ?? null;
    const places = new Map<string, ChunkPlace>();
    const checks = reply.checks !== null && typeof reply.checks === 'object' ? (reply.checks as Record<string, unknown>) : {};
    for (const [id, check] of Object.entries(checks)) {
      const locations = meta?.chunk_locations[id];
      if (locations && check !== null && typeof check === 'object') places.set(id, { locations: addressList(locations), check: checkOf(check as Reply) });
    }
    return { meta, places };
  }

  /** report_corrupt_chunk: `address` served bytes of the chunk that failed their check. Best effort: true when the master dropped that copy. */
  async reportCorrupt(filePath: string, chunkId: string, address: string): Promise<boolean> {
    const reply = await this.raw({ command: 'report_corrupt_chunk', file_path: filePath, chunk_id: chunkId, address });
    return reply.status === 'ok' && reply.dropped === true;
  }

  /**
   * The master's replication_factor (cluster_status, ours), or null when it does not say.
   * Kept for FACTOR_TTL_MS: every append's result names it, and asking each time put a master
   * round trip (and cluster_status's whole count) behind every record.
   */
  async replicationFactor(): Promise<number | null> {
    if (this.factor && performance.now() - this.factor.at < FACTOR_TTL_MS) return this.factor.value;
    const reply = await this.raw({ command: 'cluster_status' });
    const value = reply.status === 'ok' && typeof reply.replication_factor === 'number' ? reply.replication_factor : null;
    this.factor = { value, at: performance.now() };
    return value;
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

  /**
   * create_file (ours; PROTOCOL.md, "Small files"): the file and its one chunk, placed. Null
   * when this master has no create_file (a reference master) or wants the classic put (the
   * chunk's bytes are already in another file).
   */
  async createFile(filePath: string, chunkId: string, overwrite: boolean): Promise<{ locations: string[]; factor: number | null } | null> {
    const reply = await this.raw({ command: 'create_file', file_path: filePath, chunk_id: chunkId, client_id: null, overwrite });
    if (reply.status !== 'ok') {
      const code = replyCode(reply.message)?.code;
      if (code === UnknownCommandError.code || /unknown command/i.test(String(reply.message))) return null;
      if (code === MSG.fileExists) throw new GfsError('file_exists', `${filePath} already exists (overwrite it with --force)`);
      if (code === MSG.insufficientSpace) throw new GfsError('no_servers', `the master at ${this.address} knows no live chunk server to place ${filePath} on`);
      throw new GfsError('master_error', `master refused create_file: ${String(reply.message)}`);
    }
    if (reply.created !== true || !Array.isArray(reply.locations)) return null;
    const locations = reply.locations.filter((a): a is string => typeof a === 'string');
    return { locations, factor: typeof reply.replication_factor === 'number' ? reply.replication_factor : null };
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

  /** decommission_server: unknown_server for an address it does not know, decommission_refused when it could never finish (unless `force`). */
  async decommission(address: string, force: boolean): Promise<{ chunks_left: number | null; eta_s: number | null }> {
    const reply = await this.raw({ command: 'decommission_server', address, ...(force ? { force: true } : {}) });
    const count = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
    if (reply.status === 'ok') return { chunks_left: count(reply.chunks_left), eta_s: count(reply.eta_s) };
    const { code, detail } = replyCode(reply.message) ?? {};
    if (code === MSG.unknownServer) throw new GfsError('unknown_server', `the master knows no chunk server ${address}`);
    if (code === DecommissionRefusedError.code) {
      const why = detail ?? 'no reason given';
      throw new GfsError('decommission_refused', `not decommissioning ${address}: ${why}, so it could never finish (force it with --force)`);
    }
    if (code === UnknownCommandError.code) throw new GfsError('unsupported', `the master at ${this.address} cannot decommission servers (no decommission_server command)`);
    throw new GfsError('master_error', `master refused decommission_server: ${String(reply.message)}`);
  }

  /** forget_server: a dead server leaves the master's lists; refused for a live or unknown one. */
  /** master_status of every master this client was given, each asked directly; one that does not answer is `unreachable`. */
  async statusOfEach(): Promise<MasterState[]> {
    return Promise.all(
      [...this.masters].map(async (address): Promise<MasterState> => {
        try {
          const r = await call(address, { command: 'master_status' }, this.opts, this.pool);
          if (r.status !== 'ok') return { address, role: 'unreachable', leader: null, since: null, error: String(r.message) };
          const role = r.role === 'single' || r.role === 'leader' || r.role === 'standby' ? r.role : 'unreachable';
          return { address, role, leader: typeof r.leader === 'string' ? r.leader : null, since: typeof r.since === 'number' ? r.since : null };
        } catch (err) {
          return { address, role: 'unreachable', leader: null, since: null, error: masterFailure(address, err).message };
        }
      }),
    );
  }

  async forget(address: string): Promise<void> {
    const reply = await this.raw({ command: 'forget_server', address });
    if (reply.status === 'ok') return;
    const code = replyCode(reply.message)?.code;
    if (code === MSG.unknownServer) throw new GfsError('unknown_server', `the master knows no chunk server ${address}`);
    if (code === MSG.serverLive) throw new GfsError('server_live', `${address} is live (it sends heartbeats): stop it first, or decommission it`);
    if (code === UnknownCommandError.code) throw new GfsError('unsupported', `the master at ${this.address} cannot forget servers (no forget_server command)`);
    throw new GfsError('master_error', `master refused forget_server: ${String(reply.message)}`);
  }

  /** rename_file: file_not_found, file_exists and invalid_path as the library's codes. */
  async rename(from: string, to: string): Promise<void> {
    const reply = await this.raw({ command: 'rename_file', file_path: from, new_path: to });
    if (reply.status === 'ok') return;
    const { code, detail } = replyCode(reply.message) ?? {};
    if (code === MSG.fileNotFound) throw new GfsError('file_not_found', `no such file: ${from}`);
    if (code === MSG.fileExists) throw new GfsError('file_exists', `${to} already exists`);
    if (code === InvalidPathError.code) throw new GfsError('bad_input', `invalid remote path ${JSON.stringify(to)}: ${detail ?? ''}`);
    if (code === UnknownCommandError.code) throw new GfsError('unsupported', `the master at ${this.address} cannot rename files (no rename_file command)`);
    throw new GfsError('master_error', `master refused rename_file: ${String(reply.message)}`);
  }

  /** The live servers' states: `decommissioning` for those being emptied, else `live`. */
  async serverStates(): Promise<Map<string, 'live' | 'decommissioning'>> {
    const { servers, decommissioning } = await this.serverLists();
    return new Map([...servers.map((a) => [a, 'live'] as const), ...decommissioning.map((a) => [a, 'decommissioning'] as const)]);
  }
}

/** Where to read a chunk (its current holders) and what to check the bytes against. */
export interface ChunkPlace {
  readonly locations: string[];
  readonly check: ChunkCheck;
}

function addressList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((a): a is string => typeof a === 'string') : [];
}

/** The chunk's version and the (length, digest) of its current copies; a master without them vouches for none. */
function checkOf(reply: Reply): ChunkCheck {
  const digests = Array.isArray(reply.digests)
    ? (reply.digests as unknown[]).flatMap((d) => {
        const { length, digest } = (d ?? {}) as Record<string, unknown>;
        return typeof length === 'number' && typeof digest === 'string' ? [{ length, digest }] : [];
      })
    : [];
  return { version: typeof reply.version === 'number' ? reply.version : 0, digests };
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
