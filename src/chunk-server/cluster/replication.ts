import type { Logger } from 'pino';
import type { Payload } from '../../wire/payload.js';
import type { ChunkReport, MasterClient } from './master-client.js';
import type { Members } from './members.js';
import { RecordAppends } from './record-appends.js';
import type { Reply, Rpc } from '../../net/rpc.js';

/** What a primary hands on of a store or an append its command module took. */
type Forwarded = { chunk_id: string; data: Payload; file_path: string | null };

export interface ClusterOptions {
  /** This server's advertised `host:port`. */
  readonly address: string;
  /** Servers that should hold each chunk, this one included. */
  readonly replicationFactor: number;
  /** null: standalone; nothing is replicated or reported. */
  readonly master: MasterClient | null;
  /** Reports a chunk's change to the master before the caller answers (cluster/chunk-reports.ts). */
  readonly reportChange?: (chunkId: string) => Promise<void>;
  readonly rpc: Rpc;
  /** The only servers chunk data is sent to; without it, none (a server with no peers). */
  readonly members?: Members;
  /** For check_space, in ms. */
  readonly controlTimeoutMs: number;
  /** For calls that carry chunk data (store, append, one hop of a chain), in ms. */
  readonly dataTimeoutMs: number;
  readonly log: Logger;
}

/**
 * What handlers may ask of the rest of the cluster. Every method settles: peer and master
 * failures are logged here and show up as fewer holders, never as a thrown error (except
 * `forwardChain`, whose caller reports the failing link).
 */
export class Cluster {
  /** Leases held as primary, the order of forwarded records, reports of new ends (record_append). */
  readonly records: RecordAppends;

  constructor(private readonly opts: ClusterOptions) {
    this.records = new RecordAppends(opts);
  }

  get address(): string {
    return this.opts.address;
  }

  get replicationFactor(): number {
    return this.opts.replicationFactor;
  }

  /** Whether chunk data may go to `address`: a member of the cluster other than this server. */
  mayForward(address: string): Promise<boolean> {
    return this.opts.members?.allows(address) ?? Promise.resolve(false);
  }

  /** Whether `address` is a member by the list as it is now (no wait; a miss refreshes it). */
  knowsMember(address: string): boolean {
    return this.opts.members?.knows(address) ?? false;
  }

  /**
   * Peers for the copies of a new chunk of `size` bytes: the master's pick, each asked
   * `check_space` in parallel, those without room left out. [] when standalone; null when
   * the master could not be asked.
   */
  async replicaTargets(size: number, clientId: string | null): Promise<string[] | null> {
    const { master, log } = this.opts;
    if (!master) return [];
    let proposed: string[];
    try {
      proposed = await master.replicaLocations(clientId);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'could not ask the master for replica locations');
      return null;
    }
    const candidates = [...new Set(proposed)].filter((a) => a !== this.opts.address).slice(0, this.opts.replicationFactor - 1);
    const checked = await Promise.all(
      candidates.map(async (peer) => {
        try {
          const reply = await this.opts.rpc.request(peer, { command: 'check_space', size }, this.opts.controlTimeoutMs);
          if (reply.status === 'ok') return peer;
          log.info({ peer, message: reply.message, available_space: reply.available_space }, 'replica candidate has no room');
        } catch (err) {
          log.warn({ peer, err: (err as Error).message }, 'replica candidate unreachable');
        }
        return null;
      }),
    );
    return checked.filter((p): p is string => p !== null);
  }

  /**
   * Sends the chunk to each target as a replica, in parallel; resolves with those that stored
   * it. The targets are the master's answer to get_replica_locations, live members by
   * definition, so they are not checked against the (possibly older) member list.
   */
  /** `checkMembers`: the targets came from a client (store_chunk's forward_to), not from the master. */
  storeReplicas(targets: string[], req: Forwarded & { chunk_index: number | null }, version: number, checkMembers = false): Promise<string[]> {
    return this.fanOut(targets.filter((a) => a !== this.opts.address), 'store_chunk', {
      command: 'store_chunk',
      chunk_id: req.chunk_id,
      file_path: req.file_path,
      chunk_index: req.chunk_index ?? undefined,
      data: req.data,
      replica_servers: true,
      version,
    }, checkMembers);
  }

  /** update_file_metadata; false when the master could not be told. Standalone: nothing to tell. */
  async reportChunk(report: ChunkReport): Promise<boolean> {
    const { master, log } = this.opts;
    if (!master) return true;
    try {
      await master.updateFileMetadata(report);
      return true;
    } catch (err) {
      log.warn({ chunk_id: report.chunk_id, file_path: report.file_path, err: (err as Error).message }, 'could not update metadata on the master');
      return false;
    }
  }

  /**
   * A commit changed the chunk: the master hears it before the client does, so the client's
   * update_chunk_offset finds this copy current. Never fails.
   */
  async changed(chunkId: string): Promise<void> {
    try {
      await this.opts.reportChange?.(chunkId);
    } catch (err) {
      this.opts.log.warn({ chunk_id: chunkId, err: (err as Error).message }, 'could not report a change to the master');
    }
  }

  /**
   * update_chunk_offset after an append this server made as primary: the chunk's new end, and
   * the holders that applied it, so the master knows any other copy is stale. False when the
   * master could not be told (its next reports reconcile the length).
   */
  async reportOffset(filePath: string, chunkId: string, offset: number, holders: string[], version: number | undefined): Promise<boolean> {
    const { master, log } = this.opts;
    if (!master) return true;
    try {
      await master.updateChunkOffset({ file_path: filePath, chunk_id: chunkId, offset, chunk_locations: holders, ...(version ? { version } : {}) });
      return true;
    } catch (err) {
      log.warn({ chunk_id: chunkId, file_path: filePath, err: (err as Error).message }, 'could not update the chunk offset on the master');
      return false;
    }
  }

  /**
   * Forwards an append to the other servers holding the chunk, in parallel, as replica
   * appends; resolves with those that applied it. The holders come from the master's
   * record of the chunk (get_chunk_locations), not from get_replica_locations as in the
   * reference: a server that never had the chunk would otherwise create one holding only
   * the appended bytes under the chunk's id.
   */
  async appendReplicas(req: Forwarded & { offset: number | null; version: number | null }): Promise<string[]> {
    const { master, log } = this.opts;
    if (!master || req.file_path === null) return [];
    let holders: string[];
    try {
      holders = await master.chunkLocations(req.file_path, req.chunk_id);
    } catch (err) {
      log.warn({ chunk_id: req.chunk_id, err: (err as Error).message }, 'could not ask the master where the chunk lives; append not forwarded');
      return [];
    }
    const targets = [...new Set(holders)].filter((a) => a !== this.opts.address);
    return this.fanOut(targets, 'append_chunk', {
      command: 'append_chunk',
      chunk_id: req.chunk_id,
      data: req.data,
      offset: req.offset,
      file_path: req.file_path,
      replica_servers: true,
      version: req.version ?? undefined,
    });
  }

  /**
   * One hop of chain replication. `hopsLeft` servers remain from `next` to the end, so each
   * hop waits longer than the one after it and the link that failed is the one reported.
   */
  forwardChain(next: string, request: Reply, hopsLeft: number): Promise<Reply> {
    return this.opts.rpc.request(next, request, this.opts.dataTimeoutMs * Math.max(1, hopsLeft));
  }

  /** `checkMembers`: skip targets that are not members (addresses from records clients can write). */
  private async fanOut(targets: string[], what: string, request: Reply, checkMembers = true): Promise<string[]> {
    const { log } = this.opts;
    const done = await Promise.all(
      targets.map(async (peer) => {
        if (checkMembers && !(await this.mayForward(peer))) {
          log.warn({ peer, chunk_id: request.chunk_id }, `${what} not sent: not a member of the cluster`);
          return null;
        }
        try {
          const reply = await this.opts.rpc.request(peer, request, this.opts.dataTimeoutMs);
          if (reply.status === 'ok') return peer;
          log.warn({ peer, chunk_id: request.chunk_id, message: reply.message }, `replica refused ${what}`);
        } catch (err) {
          log.warn({ peer, chunk_id: request.chunk_id, err: (err as Error).message }, `${what} to replica failed`);
        }
        return null;
      }),
    );
    return done.filter((p): p is string => p !== null);
  }
}
