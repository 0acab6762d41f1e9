// The chunk server's start, as steps that each hand the next what it needs: store ->
// transaction log -> listener and background sweeps -> cluster side -> handlers -> port
// record -> metrics -> master link. Whatever a step opens is closed in reverse order, by
// stop() or at once when a later step fails.
import type { Logger } from 'pino';
import type { ChunkServerConfig } from '../config/chunk-server.js';
import { recordedPort, recordServer, startScrubber, type ChunkStore } from '../storage/index.js';
import { BufferPool } from '../wire/buffer-pool.js';
import { chunkServerCommands } from './commands/index.js';
import { chunkServerMetrics } from './metrics.js';
import { Closers } from './start/closers.js';
import { joinCluster } from './start/join-cluster.js';
import { layoutOf, MIB } from './start/layout.js';
import { Router, startListener } from './start/listener.js';
import { serveMetrics } from './start/metrics-endpoint.js';
import { openStore, openTxLog } from './start/open-store.js';
import { startExpirySweep } from './transaction-expiry.js';

export interface ChunkServer {
  readonly address: string;
  readonly port: number;
  readonly store: ChunkStore;
  /** Stops accepting, finishes in-flight requests (bounded by shutdown_grace_s), closes the store. */
  stop(): Promise<void>;
}

export async function startChunkServer(config: ChunkServerConfig, log: Logger): Promise<ChunkServer> {
  const closers = new Closers();
  try {
    return await start(config, log, closers);
  } catch (err) {
    await closers.closeAll();
    throw err;
  }
}

async function start(config: ChunkServerConfig, log: Logger, closers: Closers): Promise<ChunkServer> {
  const layout = layoutOf(config);
  const pool = new BufferPool(Math.floor(config.bufferPoolMb * MIB));

  const { store, chunks } = await openStore(config, layout, pool, log);
  closers.add(() => store.close());
  const txLog = openTxLog(config, layout, log);
  closers.add(() => txLog.close());
  if (config.tls) {
    const credentials = config.tls.credentials;
    credentials.watch(log);
    closers.add(() => credentials.close());
  }
  const router = new Router();
  const port = config.port ?? (await recordedPort(layout.infoFile, config.serverId)) ?? 0;
  const server = await startListener(config, { layout, port, store, pool, router, log });
  // From here to router.open nothing may wait: see Router.
  const sweeper = startExpirySweep(store, config.transactionTtlS * 1000, txLog.log, log);
  const scrubber = startScrubber(store, { intervalMs: config.scrubIntervalS * 1000, rateBytesPerS: config.scrubRateMbS * MIB, log });
  closers.add(async () => {
    await server.close(config.shutdownGraceS * 1000);
    // Only now: requests still finishing may prepare transactions and read chunks.
    await Promise.all([sweeper.stop(), scrubber.stop()]);
  });
  const address = `${config.host}:${server.port}`;
  const { cluster, master, runner } = joinCluster(config, address, store, layout, log);
  closers.add(() => runner.stop());
  if (master) closers.add(() => master.reporter.close());
  const serve = (decoded: unknown): Promise<Record<string, unknown>> => chunkServerCommands.dispatch(decoded, { store, log, txlog: txLog.log, pool, cluster });
  // Without a metrics port nothing is counted: the request path stays as it is.
  const metrics = config.metricsPort > 0 ? chunkServerMetrics({ store, chunkDir: layout.chunkDir, commands: chunkServerCommands.names, masterLink: () => master?.client ?? null }) : null;
  router.open(metrics ? metrics.requests.wrap(serve) : serve, metrics ? (socket) => metrics.requests.watch(socket) : null, (a) => cluster.knowsMember(a));

  await recordServer(layout.infoFile, config.serverId, { port: server.port, data_dir: layout.chunkDir, last_start: Date.now() / 1000 });
  if (metrics) {
    const http = await serveMetrics(config, { registry: metrics.registry, address, store, master: master?.client ?? null, log });
    if (http) closers.add(() => http.close());
  }
  log.info(
    {
      address,
      chunk_dir: layout.chunkDir,
      space_limit: layout.limitBytes,
      used: store.space.used,
      chunks,
      master: master?.client.address ?? null,
      client_auth: config.security?.clientAuth ?? 'no cluster key',
      tls: config.tls?.mode ?? 'off',
    },
    'chunk server listening',
  );
  if (master) {
    master.client.start();
    closers.add(() => master.client.stop());
  }

  let stopped: Promise<void> | undefined;
  return {
    address,
    port: server.port,
    store,
    stop: () => (stopped ??= closers.closeAll()),
  };
}
