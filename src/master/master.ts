import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { Rpc } from '../cluster/rpc.js';
import { DEFAULTS as CHUNK_DEFAULTS } from '../config.js';
import { listen } from '../server.js';
import { BufferPool } from '../wire/buffer-pool.js';
import { ClusterView } from '../http/cluster-view.js';
import type { HttpSide } from '../http/http-server.js';
import { startMasterHttp } from '../http/master-http.js';
import { masterMetrics } from '../http/master-metrics.js';
import type { MasterConfig } from './config.js';
import type { MasterContext } from './handlers/context.js';
import { dispatchMaster, MASTER_COMMANDS } from './handlers/index.js';
import { MetadataStore } from './metadata.js';
import { Nodes } from './nodes.js';
import { Replicator } from './replicator.js';

const MIB = 1024 * 1024;
// Idle slabs kept for large incoming frames; the master rarely receives any.
const POOL_BYTES = 16 * MIB;
// Calls in flight to one chunk server from the re-replication loop (it runs one at a time).
const MAX_PER_PEER = 2;

export interface Master {
  readonly address: string;
  readonly port: number;
  /** The HTTP side's port; null when it is off or could not listen. */
  readonly httpPort: number | null;
  stop(): Promise<void>;
}

/** Loads metadata, starts listening, and runs the liveness sweep and re-replication loops. */
export async function startMaster(config: MasterConfig, log: Logger): Promise<Master> {
  const metadataFile = resolve(config.metadataFile);
  const meta = await MetadataStore.open(metadataFile, config.replicationFactor);
  const nodes = new Nodes({
    heartbeatMs: config.heartbeatIntervalS * 1000,
    clientTimeoutMs: config.clientTimeoutS * 1000,
    distanceWeight: config.distanceWeight,
    spaceWeight: config.spaceWeight,
  });
  const ctx: MasterContext = { nodes, meta, replicationFactor: config.replicationFactor, log };
  const view = new ClusterView(nodes, meta, config.replicationFactor);
  const metrics = masterMetrics(view, MASTER_COMMANDS);
  const maxFrameBytes = Math.floor(config.maxMessageMb * MIB);
  const server = await listen({
    host: config.host,
    port: config.port,
    // The master takes the chunk server's connection limits; only the frame size is its own.
    limits: {
      maxFrameBytes,
      idleTimeoutMs: CHUNK_DEFAULTS.idleTimeoutS * 1000,
      frameTimeoutMs: CHUNK_DEFAULTS.frameTimeoutS * 1000,
    },
    maxConnections: CHUNK_DEFAULTS.maxConnections,
    dispatch: metrics.requests.wrap((decoded) => dispatchMaster(decoded, ctx)),
    onSocket: (socket) => metrics.requests.watch(socket),
    pool: new BufferPool(POOL_BYTES),
    // The master keeps no chunks: every frame is assembled in memory.
    stream: null,
    takesSpilled: () => false,
    log,
  });

  const sweeper = setInterval(() => {
    // Before the sweep forgets them: the console keeps servers it saw, to show them dead.
    view.refresh();
    const dropped = nodes.sweep();
    for (const address of dropped.servers) log.warn({ address }, 'chunk server missed its heartbeats; dropped');
    for (const clientId of dropped.clients) log.info({ client_id: clientId }, 'client timed out; dropped');
  }, config.heartbeatIntervalS * 1000);

  const rpc = new Rpc({
    connectTimeoutMs: config.connectTimeoutS * 1000,
    requestTimeoutMs: config.peerTimeoutS * 1000,
    maxPerPeer: MAX_PER_PEER,
    maxReplyBytes: maxFrameBytes,
  });
  const replicator = new Replicator({
    meta,
    nodes,
    rpc,
    replicationFactor: config.replicationFactor,
    intervalMs: config.replicationIntervalS * 1000,
    controlTimeoutMs: config.connectTimeoutS * 1000 * 2,
    log,
    onCopy: (phase, bytes) => metrics.copy(phase, bytes),
  });
  replicator.start();
  const http: HttpSide | null =
    config.httpPort > 0 ? await startMasterHttp({ config, nodes, meta, view, metrics, rpc, command: (body) => dispatchMaster(body, ctx), log }) : null;

  const address = `${config.host}:${server.port}`;
  log.info({ address, metadata_file: metadataFile, files: meta.size, pending: meta.pending().length, replication_factor: config.replicationFactor }, 'master listening');

  return {
    address,
    port: server.port,
    httpPort: http?.port ?? null,
    async stop() {
      clearInterval(sweeper);
      await replicator.stop();
      await http?.close();
      await server.close(config.shutdownGraceS * 1000);
      await meta.persist();
    },
  };
}
