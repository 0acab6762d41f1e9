import { isAbsolute, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { ChunkReporter } from './cluster/chunk-reports.js';
import { InstructionRunner } from './cluster/instructions.js';
import { FrameHasher } from '../auth/frame-hasher.js';
import { guarded, memberRpcAuth } from '../auth/member.js';
import { MasterClient } from './cluster/master-client.js';
import { Members } from './cluster/members.js';
import { Cluster } from './cluster/replication.js';
import { Rpc } from '../net/rpc.js';
import type { ChunkServerConfig } from '../config/config.js';
import type { HandlerContext } from './commands/context.js';
import { chunkServerCommands } from './commands/index.js';
import { chunkServerMetrics } from './metrics.js';
import { listenHttp, type HttpSide } from '../http/http-server.js';
import { metricsRoutes } from '../http/metrics-routes.js';
import { listen, type RunningServer } from '../net/server.js';
import { ChunkStore } from '../storage/index.js';
import { startScrubber } from '../storage/index.js';
import { recordedPort, recordServer } from '../storage/index.js';
import { startExpirySweep } from './transaction-expiry.js';
import { openTransactionLog, type TransactionLog } from './transaction-log.js';
import { BufferPool } from '../wire/buffer-pool.js';

const MIB = 1024 * 1024;

export interface ChunkServer {
  readonly address: string;
  readonly port: number;
  readonly store: ChunkStore;
  /** Stops accepting, finishes in-flight requests (bounded by shutdown_grace_s), closes the store. */
  stop(): Promise<void>;
}

/** Wires store, handlers, listener, transactions and the master link together from a resolved configuration. */
export async function startChunkServer(config: ChunkServerConfig, log: Logger): Promise<ChunkServer> {
  const dataDir = resolve(config.dataDir);
  const chunkDir = join(dataDir, config.serverId);
  const infoFile = join(dataDir, config.serverInfoFile);
  const limitBytes = Math.floor(config.spaceMb * MIB);
  const maxFrameBytes = Math.floor(config.maxMessageMb * MIB);

  const pool = new BufferPool(Math.floor(config.bufferPoolMb * MIB));
  const { store, report } = await ChunkStore.open(chunkDir, limitBytes, { pool, log, fsync: config.fsync, maxPrepared: config.maxPrepared, walBytes: config.walMaxKb * 1024 });
  if (report.recomputedSums > 0) log.warn({ chunks: report.recomputedSums }, 'recomputed checksums of chunks whose records were missing or stale');
  if (report.quarantined > 0) log.error({ chunks: report.quarantined }, 'quarantined chunks found damaged at start-up');
  if (report.truncated > 0) log.warn({ chunks: report.truncated }, 'cut chunks back to their committed length (appends that never committed)');
  if (report.replayed > 0) log.warn({ chunks: report.replayed }, 'replayed unfinished overwrites from the redo log');
  if (report.upgradedSums > 0) log.info({ chunks: report.upgradedSums }, 'upgraded v1 checksum files into the metadata store');
  if (report.corruptPending > 0) log.warn({ chunks: report.corruptPending }, 'corrupt chunks not yet reported to the master');
  if (report.removedTempFiles > 0) log.warn({ removed: report.removedTempFiles }, 'removed temp files of unfinished stores');
  if (report.removedPreparedFiles > 0) log.warn({ removed: report.removedPreparedFiles }, 'removed files of unfinished prepares');
  if (report.preparedTransactions > 0 || report.recoveredCommits > 0) {
    log.info(
      { prepared: report.preparedTransactions, prepared_bytes: report.preparedBytes, finished_commits: report.recoveredCommits },
      'reloaded prepared transactions',
    );
  }
  if (!config.fsync) log.warn('fsync = false: acknowledged chunks can be lost or left empty by a power loss or kernel crash');

  let txLog: TransactionLog;
  try {
    txLog = openTransactionLog(transactionLogPath(config, dataDir), config.serverId, log);
  } catch (err) {
    await store.close();
    throw err;
  }

  const port = config.port ?? (await recordedPort(infoFile, config.serverId)) ?? 0;
  // Handlers need our advertised address, known only once the port is bound. No request is
  // read before the continuation of `listen` runs (it needs another turn of the event loop),
  // and that continuation sets the context synchronously.
  let ctx: HandlerContext | undefined;
  // Without a metrics port nothing is counted: the request path stays as it is.
  const metrics = config.metricsPort > 0 ? chunkServerMetrics({ store, chunkDir, commands: chunkServerCommands.names, masterLink: () => master }) : null;
  const serve = (decoded: unknown): Promise<Record<string, unknown>> => chunkServerCommands.dispatch(decoded, ctx!);
  let server: RunningServer;
  try {
    server = await listen({
      host: config.host,
      port,
      limits: {
        maxFrameBytes,
        idleTimeoutMs: config.idleTimeoutS * 1000,
        frameTimeoutMs: config.frameTimeoutS * 1000,
        writeTimeoutMs: config.writeTimeoutS * 1000,
      },
      frameMemoryBytes: Math.floor(config.frameMemoryMb * MIB),
      maxConnections: config.maxConnections,
      dispatch: guarded(config.security, { policy: chunkServerCommands.policy, log }, metrics ? metrics.requests.wrap(serve) : serve),
      onSocket: metrics ? (socket) => metrics.requests.watch(socket) : undefined,
      observeFrames: config.security ? () => new FrameHasher(maxFrameBytes) : undefined,
      pool,
      stream: { spill: store.spillProvider(pool), minFrameBytes: Math.max(1, Math.floor(config.streamThresholdMb * MIB)) },
      takesSpilled: chunkServerCommands.takesSpilled,
      log,
    });
  } catch (err) {
    txLog.close();
    await store.close();
    throw err;
  }
  const address = `${config.host}:${server.port}`;

  const rpc = new Rpc({
    connectTimeoutMs: config.connectTimeoutS * 1000,
    requestTimeoutMs: config.peerTimeoutS * 1000,
    maxPerPeer: config.peerConcurrency,
    maxReplyBytes: maxFrameBytes,
    auth: memberRpcAuth(config.security, `member:${address}`, config.master.enabled ? `${config.master.host}:${config.master.port}` : null),
  });
  const runner = new InstructionRunner({ store, summaries: store, rpc, dataTimeoutMs: config.peerTimeoutS * 1000, parallel: config.peerConcurrency, log });
  let reporter: ChunkReporter | null = null;
  const master: MasterClient | null = config.master.enabled
    ? new MasterClient({
        master: `${config.master.host}:${config.master.port}`,
        address,
        location: [config.x, config.y],
        heartbeatMs: config.heartbeatIntervalS * 1000,
        timeoutMs: config.masterTimeoutS * 1000,
        space: () => ({ total: limitBytes, used: store.space.used }),
        corruptChunks: () => store.corruptChunks(),
        corruptReported: (ids) => store.acknowledgeCorrupt(ids),
        afterBeat: (): Promise<void> => members.refresh(),
        rpc,
        log,
        beatExtras: (registered) => {
          if (registered) reporter!.wantFull();
          const failed = runner.takeFailed();
          const beat = reporter!.next({ failed_copies: failed });
          return {
            fields: beat.fields,
            settle: (taken, reply) => {
              beat.settle(taken);
              if (!taken) return runner.giveBackFailed(failed);
              if (reply?.report_wanted === true) {
                reporter!.wantFull();
                master?.nudge();
              }
              runner.accept(reply?.instructions);
            },
          };
        },
      })
    : null;
  if (master) reporter = new ChunkReporter(store, config.chunkReportIntervalS * 1000, () => master.nudge());
  const members: Members = new Members({
    self: address,
    fixed: master ? null : config.peers,
    fetch: master ? () => master.chunkServers() : null,
    log,
  });
  const cluster = new Cluster({
    members,
    address,
    replicationFactor: config.master.replicationFactor,
    master,
    rpc,
    controlTimeoutMs: config.masterTimeoutS * 1000,
    dataTimeoutMs: config.peerTimeoutS * 1000,
    log,
    reportChange: async () => {
      await master?.flush();
    },
  });
  ctx = { store, log, txlog: txLog.log, pool, cluster };

  const sweeper = startExpirySweep(store, config.transactionTtlS * 1000, txLog.log, log);
  const scrubber = startScrubber(store, { intervalMs: config.scrubIntervalS * 1000, rateBytesPerS: config.scrubRateMbS * MIB, log });
  await recordServer(infoFile, config.serverId, { port: server.port, data_dir: chunkDir, last_start: Date.now() / 1000 });
  let http: HttpSide | null = null;
  if (metrics) {
    const routes = metricsRoutes(metrics.registry, () => ({ address, chunks: store.chunkCount, master_up: master?.linkUp ?? false }));
    http = await listenHttp({ host: config.host, port: config.metricsPort, routes, log }).catch((err: unknown) => {
      // Metrics are for operators; a taken port must not keep the chunks offline.
      log.error({ err, metrics_port: config.metricsPort }, 'metrics endpoint could not listen; serving without it');
      return null;
    });
    if (http) log.info({ metrics_port: http.port }, 'metrics listening');
  }
  log.info(
    { address, chunk_dir: chunkDir, space_limit: limitBytes, used: store.space.used, chunks: report.chunks, master: master?.address ?? null, client_auth: config.security?.clientAuth ?? 'no cluster key' },
    'chunk server listening',
  );
  master?.start();

  let stopped: Promise<void> | undefined;
  return {
    address,
    port: server.port,
    store,
    stop() {
      stopped ??= (async () => {
        await master?.stop();
        await http?.close();
        reporter?.close();
        await runner.stop();
        await server.close(config.shutdownGraceS * 1000);
        await Promise.all([sweeper.stop(), scrubber.stop()]);
        txLog.close();
        await store.close();
      })();
      return stopped;
    },
  };
}

function transactionLogPath(config: ChunkServerConfig, dataDir: string): string {
  return isAbsolute(config.transactionLog) ? config.transactionLog : join(dataDir, config.transactionLog);
}
