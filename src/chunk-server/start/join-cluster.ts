import type { Logger } from 'pino';
import { memberRpcAuth } from '../../auth/member.js';
import type { ChunkServerConfig } from '../../config/chunk-server.js';
import { Rpc } from '../../net/rpc.js';
import type { ChunkStore } from '../../storage/index.js';
import { ChunkReporter } from '../cluster/chunk-reports.js';
import { InstructionRunner } from '../cluster/instructions.js';
import { MasterClient, type MasterClientOptions } from '../cluster/master-client.js';
import { Members } from '../cluster/members.js';
import { Cluster } from '../cluster/replication.js';
import type { Layout } from './layout.js';

export interface ClusterSide {
  readonly cluster: Cluster;
  /** null: standalone. */
  readonly master: MasterLink | null;
  /** Copies and deletes the master asks for. */
  readonly runner: InstructionRunner;
}

interface LinkOptions {
  readonly config: ChunkServerConfig;
  readonly address: string;
  readonly store: ChunkStore;
  readonly limitBytes: number;
  readonly rpc: Rpc;
  readonly runner: InstructionRunner;
  readonly log: Logger;
}

/**
 * The master client and what rides on its heartbeats: chunk reports, failed copies, the
 * master's instructions and, after each beat, the member list. They need each other (a
 * chunk change sends the next beat early; a beat carries the changes), so they are fields
 * of one object.
 */
export class MasterLink {
  readonly client: MasterClient;
  readonly reporter: ChunkReporter;
  readonly members: Members;
  private readonly runner: InstructionRunner;

  constructor(o: LinkOptions) {
    const { config, store } = o;
    this.runner = o.runner;
    this.client = new MasterClient({
      master: `${config.master.host}:${config.master.port}`,
      otherMasters: config.otherMasters,
      address: o.address,
      location: [config.x, config.y],
      heartbeatMs: config.heartbeatIntervalS * 1000,
      timeoutMs: config.masterTimeoutS * 1000,
      space: () => ({ total: o.limitBytes, used: store.space.used }),
      corruptChunks: () => store.corruptChunks(),
      corruptReported: (ids) => store.acknowledgeCorrupt(ids),
      afterBeat: () => this.members.refresh(),
      rpc: o.rpc,
      log: o.log,
      beatExtras: (registered) => this.beatExtras(registered),
    });
    this.reporter = new ChunkReporter(store, config.chunkReportIntervalS * 1000, () => this.client.nudge());
    this.members = new Members({ self: o.address, fixed: null, fetch: () => this.client.chunkServers(), log: o.log });
  }

  private beatExtras(registered: boolean): ReturnType<NonNullable<MasterClientOptions['beatExtras']>> {
    if (registered) this.reporter.wantFull();
    const failed = this.runner.takeFailed();
    const beat = this.reporter.next({ failed_copies: failed });
    // Before the beat leaves: a delete the reply carries was decided no later than this, less its age.
    const sentAt = Date.now();
    return {
      fields: beat.fields,
      settle: (taken, reply) => {
        beat.settle(taken);
        if (!taken) return this.runner.giveBackFailed(failed);
        if (reply?.report_wanted === true) {
          this.reporter.wantFull();
          this.client.nudge();
        }
        this.runner.accept(reply?.instructions, sentAt);
      },
    };
  }
}

/** The link to the master (unless standalone), the peers and the replication they serve. */
export function joinCluster(config: ChunkServerConfig, address: string, store: ChunkStore, layout: Layout, log: Logger): ClusterSide {
  const masterAddress = config.master.enabled ? `${config.master.host}:${config.master.port}` : null;
  const rpc = new Rpc({
    connectTimeoutMs: config.connectTimeoutS * 1000,
    requestTimeoutMs: config.peerTimeoutS * 1000,
    maxPerPeer: config.peerConcurrency,
    maxReplyBytes: layout.maxFrameBytes,
    auth: memberRpcAuth(config.security, `member:${address}`, masterAddress),
    tls: config.tls,
  });
  const runner = new InstructionRunner({ store, rpc, dataTimeoutMs: config.peerTimeoutS * 1000, parallel: config.peerConcurrency, log });
  const master = config.master.enabled ? new MasterLink({ config, address, store, limitBytes: layout.limitBytes, rpc, runner, log }) : null;
  const cluster = new Cluster({
    members: master?.members ?? new Members({ self: address, fixed: config.peers, fetch: null, log }),
    address,
    replicationFactor: config.master.replicationFactor,
    master: master?.client ?? null,
    rpc,
    controlTimeoutMs: config.masterTimeoutS * 1000,
    dataTimeoutMs: config.peerTimeoutS * 1000,
    log,
    reportChange: async () => {
      await master?.client.flush();
    },
  });
  return { cluster, master, runner };
}
