import { dirname, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { guarded, MASTER_ID } from '../auth/member.js';
import { masterAccess } from '../auth/policy.js';
import { DEFAULTS as CHUNK_DEFAULTS } from '../config/chunk-server.js';
import { ClusterView, type NamespaceReader } from './console/cluster-view.js';
import type { HttpSide } from '../http/http-server.js';
import { startMasterHttp } from './console/master-http.js';
import { masterMetrics } from './console/master-metrics.js';
import { listen } from '../net/server.js';
import { BufferPool } from '../wire/buffer-pool.js';
import { ChunkMap } from './chunk-map.js';
import type { MasterConfig } from '../config/master.js';
import type { MasterContext } from './commands/context.js';
import { dispatchMaster, MASTER_COMMANDS } from './commands/index.js';
import { Namespace } from './namespace/namespace.js';
import { Nodes } from './nodes.js';
import { Repairer } from './repairer.js';

const MIB = 1024 * 1024;
// Idle slabs kept for large incoming frames (full chunk reports are the largest).
const POOL_BYTES = 16 * MIB;

export interface Master {
  readonly address: string;
  readonly port: number;
  /** The HTTP side's port; null when it is off or could not listen. */
  readonly httpPort: number | null;
  stop(): Promise<void>;
}

function namespaceDir(config: MasterConfig): string {
  return resolve(config.namespaceDir ?? join(dirname(resolve(config.metadataFile)), 'namespace'));
}

/** --export-metadata: the namespace as the reference's metadata.json layout. */
export async function exportMetadata(config: MasterConfig): Promise<number> {
  const { ns } = await Namespace.open(namespaceDir(config), resolve(config.metadataFile));
  try {
    return await ns.exportJson(resolve(config.exportMetadata!));
  } finally {
    await ns.close();
  }
}

/** What the handlers work on, over an open namespace (also used by the master benchmark, without sockets). */
export function masterContext(config: MasterConfig, ns: Namespace, log: Logger): MasterContext {
  const nodes = new Nodes({
    deadAfterMs: config.deadAfterS * 1000,
    clientTimeoutMs: config.clientTimeoutS * 1000,
    distanceWeight: config.distanceWeight,
    spaceWeight: config.spaceWeight,
  });
  const map = new ChunkMap();
  const repairer = new Repairer({
    ns,
    map,
    nodes,
    factor: config.replicationFactor,
    maxCopiesPerServer: config.maxCopiesPerServer,
    gcGraceMs: config.gcGraceS * 1000,
    settleMs: config.heartbeatIntervalS * 2000,
    reportMarginMs: config.heartbeatIntervalS * 1000,
    instructionTimeoutMs: config.instructionTimeoutS * 1000,
    distanceWeight: config.distanceWeight,
    spaceWeight: config.spaceWeight,
    log,
  });
  return { nodes, ns, map, repairer, replicationFactor: config.replicationFactor, reportMarginMs: config.heartbeatIntervalS * 1000, log };
}

/** Opens the namespace, starts listening, and runs the liveness sweep and the repair passes. */
export async function startMaster(config: MasterConfig, log: Logger): Promise<Master> {
  const metadataFile = resolve(config.metadataFile);
  const { ns, imported } = await Namespace.open(namespaceDir(config), metadataFile);
  if (imported !== null) log.info({ metadata_file: metadataFile, files: imported }, 'imported reference metadata.json into the namespace');
  const ctx = masterContext(config, ns, log);
  const { nodes, map, repairer } = ctx;
  const resumed = repairer.decommissions();
  if (resumed.length > 0) log.info({ addresses: resumed }, 'decommissions recorded before the restart resume');
  const maxFrameBytes = Math.floor(config.maxMessageMb * MIB);
  // The console shows holders as get_file_metadata gives them: recorded ones, overlaid with the chunk reports.
  const shown: NamespaceReader = {
    get size() {
      return ns.size;
    },
    list: () => ns.list(),
    get: (path) => {
      const meta = ns.get(path);
      if (!meta) return null;
      const chunk_locations = Object.fromEntries(meta.chunk_ids.map((id) => [id, repairer.holders(id, meta.chunk_locations[id] ?? [])]));
      return { ...meta, chunk_locations };
    },
  };
  const view = new ClusterView(nodes, shown, config.replicationFactor, () => repairer.status());
  const metrics = masterMetrics(view, MASTER_COMMANDS, () => repairer.status());
  const server = await listen({
    host: config.host,
    port: config.port,
    // The master takes the chunk server's connection limits; only the frame size is its own.
    limits: {
      maxFrameBytes,
      idleTimeoutMs: CHUNK_DEFAULTS.idleTimeoutS * 1000,
      frameTimeoutMs: CHUNK_DEFAULTS.frameTimeoutS * 1000,
      writeTimeoutMs: CHUNK_DEFAULTS.writeTimeoutS * 1000,
    },
    frameMemoryBytes: CHUNK_DEFAULTS.frameMemoryMb * MIB,
    maxConnections: CHUNK_DEFAULTS.maxConnections,
    dispatch: guarded(config.security, { access: masterAccess, log, signRepliesAs: MASTER_ID }, metrics.requests.wrap((decoded) => dispatchMaster(decoded, ctx))),
    onSocket: (socket) => metrics.requests.watch(socket),
    hashFrames: config.security !== undefined,
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
    for (const address of dropped.servers) {
      map.unreported(address);
      repairer.serverGone(address);
      log.warn({ address, dead_after_s: config.deadAfterS }, 'chunk server missed its heartbeats; dead, its replicas count as lost');
    }
    for (const clientId of dropped.clients) log.info({ client_id: clientId }, 'client timed out; dropped');
  }, Math.min(config.heartbeatIntervalS, config.deadAfterS) * 500);

  let stopped = false;
  let passing: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | null = null;
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      passing = repairer
        .pass()
        .catch((err: unknown) => log.error({ err }, 'repair pass failed'))
        .finally(schedule);
    }, config.replicationIntervalS * 1000);
  };
  schedule();

  const address = `${config.host}:${server.port}`;
  const http: HttpSide | null =
    config.httpPort > 0 ? await startMasterHttp({ config, meta: shown, view, metrics, masterAddress: address, log }) : null;

  log.info({ address, client_auth: config.security?.clientAuth ?? 'no cluster key', namespace: namespaceDir(config), files: ns.size, replication_factor: config.replicationFactor }, 'master listening');

  return {
    address,
    port: server.port,
    httpPort: http?.port ?? null,
    async stop() {
      stopped = true;
      clearInterval(sweeper);
      if (timer) clearTimeout(timer);
      await passing;
      await http?.close();
      await server.close(config.shutdownGraceS * 1000);
      await ns.close();
    },
  };
}
