import { dirname, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { FrameHasher } from '../auth/frame-hasher.js';
import { guarded, MASTER_ID } from '../auth/member.js';
import { DEFAULTS as CHUNK_DEFAULTS } from '../config/chunk-server.js';
import { listen, type RunningServer } from '../net/server.js';
import { memberOnlyIn } from '../commands/registry.js';
import { BufferPool } from '../wire/buffer-pool.js';
import { ChunkMap } from './chunk-map.js';
import type { MasterContext } from './commands/context.js';
import { masterCommands } from './commands/index.js';
import type { MasterConfig } from '../config/master.js';
import { ClusterView, type NamespaceReader } from './console/cluster-view.js';
import { Leases } from './leases.js';
import { Members } from './members.js';
import { startMasterHttp } from './console/master-http.js';
import { masterMetrics, type MasterMetrics } from './console/master-metrics.js';
import { Namespace } from './namespace/namespace.js';
import { Nodes } from './nodes.js';
import { registerEtcdMetrics, registerProxyMetrics } from './etcd/etcd-metrics.js';
import { leaderOnly, type StandbyForwarding } from './etcd/leader-only.js';
import { LeaderProxy } from './etcd/leader-proxy.js';
import { roleOf } from './etcd/role.js';
import type { Leadership } from './etcd/leadership.js';
import { startReplication, type Replication } from './etcd/replicated.js';
import { RepairScheduler } from './repair-scheduler.js';

const MIB = 1024 * 1024;
// Idle slabs kept for large incoming frames (full chunk reports are the largest).
const POOL_BYTES = 16 * MIB;
// Beside the namespace's lmdb files: how far ahead this master may have granted leases.
const LEASE_HORIZON_FILE = 'lease-horizon.json';

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

/** --export-metadata: the namespace as the reference's metadata.json layout, written to `file`. */
export async function exportMetadata(config: MasterConfig, file: string): Promise<number> {
  const { ns } = await Namespace.open(namespaceDir(config), resolve(config.metadataFile));
  try {
    return await ns.exportJson(resolve(file));
  } finally {
    await ns.close();
  }
}

/** What the handlers work on, over an open namespace (also used by the master benchmark, without sockets). */
export function masterContext(config: MasterConfig, ns: Namespace, log: Logger, leases = Leases.inMemory(config.leaseS * 1000), leadership?: Leadership): MasterContext {
  const nodes = new Nodes({ deadAfterMs: config.deadAfterS * 1000, clientTimeoutMs: config.clientTimeoutS * 1000 });
  const map = new ChunkMap();
  const members = new Members(ns);
  const placement = { distanceWeight: config.distanceWeight, spaceWeight: config.spaceWeight };
  const repairer = new RepairScheduler({
    ns,
    map,
    nodes,
    members,
    factor: config.replicationFactor,
    maxCopiesPerServer: config.maxCopiesPerServer,
    gcGraceMs: config.gcGraceS * 1000,
    settleMs: config.heartbeatIntervalS * 2000,
    reportMarginMs: config.heartbeatIntervalS * 1000,
    instructionTimeoutMs: config.instructionTimeoutS * 1000,
    ...placement,
    log,
    leased: (chunkId) => leases.current(chunkId) !== null,
  });
  return { nodes, members, ns, map, repairer, leases, placement, replicationFactor: config.replicationFactor, reportMarginMs: config.heartbeatIntervalS * 1000, log, leadership };
}

/** What start-up opened, closed in the reverse order by stop(), or when a later step fails. */
class OpenedSteps {
  private readonly closers: (() => Promise<void> | void)[] = [];

  add(close: () => Promise<void> | void): void {
    this.closers.push(close);
  }

  async closeAll(): Promise<void> {
    for (const close of this.closers.splice(0).reverse()) await close();
  }
}

async function openNamespace(config: MasterConfig, log: Logger): Promise<Namespace> {
  const metadataFile = resolve(config.metadataFile);
  const { ns, imported } = await Namespace.open(namespaceDir(config), metadataFile);
  if (imported !== null) log.info({ metadata_file: metadataFile, files: imported }, 'imported reference metadata.json into the namespace');
  return ns;
}

/** The console shows holders as get_file_metadata gives them: recorded ones, overlaid with the chunk reports. */
function shownNamespace(ctx: MasterContext): NamespaceReader {
  const { ns, repairer } = ctx;
  return {
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
}

/**
 * How a standby proxies clients that do not follow not_leader; null when it proxies nothing:
 * [master] etcd_proxy_max_in_flight = 0, or under [security], where a request's proof covers
 * the bytes of its frame as its sender wrote them and a re-encoded copy would not verify.
 */
function standbyForwarding(config: MasterConfig, maxFrameBytes: number, metrics: MasterMetrics): StandbyForwarding | undefined {
  if (config.etcdProxyMaxInFlight === 0 || config.security || config.tls) return undefined;
  let proxy: LeaderProxy | null = null;
  const onOutcome = registerProxyMetrics(metrics.registry, () => proxy?.proxying ?? 0);
  proxy = new LeaderProxy({ timeoutMs: config.etcdProxyTimeoutS * 1000, maxInFlight: config.etcdProxyMaxInFlight, maxReplyBytes: maxFrameBytes, onOutcome });
  return { proxy, memberOnly: memberOnlyIn(masterCommands.policy) };
}

function listenTcp(config: MasterConfig, ctx: MasterContext, metrics: MasterMetrics, leadership: Leadership | null, forwarding: StandbyForwarding | undefined): Promise<RunningServer> {
  const { log } = ctx;
  const dispatch = (decoded: unknown) => masterCommands.dispatch(decoded, ctx);
  const maxFrameBytes = Math.floor(config.maxMessageMb * MIB);
  return listen({
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
    dispatch: guarded(config.security, { policy: masterCommands.policy, log, signRepliesAs: MASTER_ID }, metrics.requests.wrap(leadership ? leaderOnly(leadership, dispatch, forwarding) : dispatch)),
    onSocket: (socket) => metrics.requests.watch(socket),
    observeFrames: config.security ? () => new FrameHasher(maxFrameBytes) : undefined,
    pool: new BufferPool(POOL_BYTES),
    // The master keeps no chunks: every frame is assembled in memory.
    stream: null,
    takesSpilled: () => false,
    tls: config.tls && { settings: config.tls, memberOnly: memberOnlyIn(masterCommands.policy) },
    log,
  });
}

/** Forgets servers and clients that stopped beating; returns how to stop sweeping. */
function startSweeper(config: MasterConfig, ctx: MasterContext, view: ClusterView): () => void {
  const { nodes, members, map, repairer, log } = ctx;
  const sweeper = setInterval(() => {
    // Before the sweep forgets them: the console keeps servers it saw, to show them dead.
    view.refresh();
    for (const s of nodes.silent()) members.lost(s).catch((err: unknown) => log.error({ err, address: s.address }, 'could not record a silent server'));
    const dropped = nodes.sweep();
    for (const address of dropped.servers) {
      map.unreported(address);
      repairer.serverGone(address);
      log.warn({ address, dead_after_s: config.deadAfterS }, 'chunk server missed its heartbeats; dead, its replicas count as lost');
    }
    for (const clientId of dropped.clients) log.info({ client_id: clientId }, 'client timed out; dropped');
  }, Math.min(config.heartbeatIntervalS, config.deadAfterS) * 500);
  return () => clearInterval(sweeper);
}

/** A repair pass every replication interval, the next one timed from the end of the last; stopping waits for a pass under way. */
function startRepairLoop(config: MasterConfig, ctx: MasterContext, replication: Replication | null): () => Promise<void> {
  const { repairer, log } = ctx;
  const loop: { stopped: boolean; passing: Promise<void>; timer: NodeJS.Timeout | null } = { stopped: false, passing: Promise.resolve(), timer: null };
  const schedule = (): void => {
    if (loop.stopped) return;
    loop.timer = setTimeout(() => {
      // Over etcd only the leader repairs, and not in safe mode: a new leader has not yet heard every holder.
      if (replication && !replication.repairsAllowed()) {
        schedule();
        return;
      }
      loop.passing = repairer
        .pass()
        .catch((err: unknown) => log.error({ err }, 'repair pass failed'))
        .finally(schedule);
    }, config.replicationIntervalS * 1000);
  };
  schedule();
  return async () => {
    loop.stopped = true;
    if (loop.timer) clearTimeout(loop.timer);
    await loop.passing;
  };
}

/** Opens the namespace, listens, serves HTTP, and runs the liveness sweep and the repair passes. */
export async function startMaster(config: MasterConfig, log: Logger): Promise<Master> {
  const opened = new OpenedSteps();
  try {
    const ns = await openNamespace(config, log);
    opened.add(() => ns.close());
    const replication = config.etcdEndpoints.length > 0 ? startReplication(config, ns, log) : null;
    if (replication) opened.add(() => replication.close());

    if (config.tls) {
      const credentials = config.tls.credentials;
      credentials.watch(log);
      opened.add(() => credentials.close());
    }
    // Over etcd no horizon file: every new leader, restarted or not, waits one lease on taking office.
    const leases = replication ? Leases.inMemory(config.leaseS * 1000) : await Leases.open(config.leaseS * 1000, join(namespaceDir(config), LEASE_HORIZON_FILE));
    if (leases.restartWaitMs > 0) log.info({ wait_ms: Math.round(leases.restartWaitMs) }, 'no chunk lease granted until the ones granted before the restart have run out');
    replication?.leadership.on('elected', () => {
      leases.holdOff();
      log.info({ wait_ms: config.leaseS * 1000 }, 'new leader: no chunk lease granted until any the old leader granted has run out');
    });
    const ctx = masterContext(config, ns, log, leases, replication?.leadership);
    const resumed = ctx.repairer.decommissions();
    if (resumed.length > 0) log.info({ addresses: resumed }, 'decommissions recorded before the restart resume');
    const shown = shownNamespace(ctx);
    const view = new ClusterView(ctx.nodes, shown, config.replicationFactor, () => ctx.repairer.status());
    const metrics = masterMetrics(view, masterCommands.names, () => ctx.repairer.status(), () => ctx.repairer.copyCounts());

    if (replication) registerEtcdMetrics(metrics.registry, replication);
    const forwarding = replication ? standbyForwarding(config, Math.floor(config.maxMessageMb * MIB), metrics) : undefined;
    if (forwarding) opened.add(() => forwarding.proxy.close());
    const server = await listenTcp(config, ctx, metrics, replication?.leadership ?? null, forwarding);
    opened.add(() => server.close(config.shutdownGraceS * 1000));
    const address = `${config.host}:${server.port}`;

    const http = config.httpPort > 0 ? await startMasterHttp({ config, meta: shown, view, metrics, masterAddress: address, role: () => roleOf(replication?.leadership), log }) : null;
    if (http) opened.add(() => http.close());

    opened.add(startSweeper(config, ctx, view));
    opened.add(startRepairLoop(config, ctx, replication));
    replication?.start(address);

    log.info({ address, client_auth: config.security?.clientAuth ?? 'no cluster key', tls: config.tls?.mode ?? 'off', etcd: config.etcdEndpoints.length > 0 ? config.etcdEndpoints : 'off', namespace: namespaceDir(config), files: ns.size, replication_factor: config.replicationFactor }, 'master listening');
    return { address, port: server.port, httpPort: http?.port ?? null, stop: () => opened.closeAll() };
  } catch (err) {
    await opened.closeAll();
    throw err;
  }
}
