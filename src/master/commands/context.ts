import type { Logger } from 'pino';
import type { ChunkMap } from '../chunk-map.js';
import type { Leases } from '../leases.js';
import type { Members } from '../members.js';
import type { Namespace } from '../namespace/namespace.js';
import type { Nodes } from '../nodes.js';
import type { PlacementWeights } from '../placement-policy.js';
import type { RepairScheduler } from '../repair-scheduler.js';

/** A master's leadership over etcd, as master_status reports it (src/master/etcd/leadership.ts). */
export interface LeadershipInfo {
  isLeader(): boolean;
  leader(): string | null;
  since(): number | null;
}

/** What a master handler may use. */
export interface MasterContext {
  readonly nodes: Nodes;
  /** Every chunk server known, kept across restarts until forgotten. */
  readonly members: Members;
  readonly ns: Namespace;
  /** Who holds which chunk, from the servers' reports. */
  readonly map: ChunkMap;
  readonly repairer: RepairScheduler;
  /** Chunk leases: who is primary of a chunk for record_append. */
  readonly leases: Leases;
  /** The weights of get_replica_locations' score, as repair places copies. */
  readonly placement: PlacementWeights;
  readonly replicationFactor: number;
  /** A report proves a copy stale only if it came this long after the length was raised (one heartbeat: time for the change to be reported). */
  readonly reportMarginMs: number;
  readonly log: Logger;
  /** Set with [master] etcd_endpoints. */
  readonly leadership?: LeadershipInfo;
}
