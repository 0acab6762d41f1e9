import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { ChunkServerConfig } from './config.js';
import type { HandlerContext } from './handlers/context.js';
import { listen } from './server.js';
import { ChunkStore } from './storage/chunk-store.js';
import { recordedPort, recordServer } from './storage/server-info.js';
import { BufferPool } from './wire/buffer-pool.js';

const MIB = 1024 * 1024;

export interface ChunkServer {
  readonly address: string;
  readonly port: number;
  readonly store: ChunkStore;
  /** Stops accepting, finishes in-flight requests (bounded by shutdown_grace_s), closes the store. */
  stop(): Promise<void>;
}

/** Wires store, handlers and listener together from a resolved configuration. */
export async function startChunkServer(config: ChunkServerConfig, log: Logger): Promise<ChunkServer> {
  const dataDir = resolve(config.dataDir);
  const chunkDir = join(dataDir, config.serverId);
  const infoFile = join(dataDir, config.serverInfoFile);
  const limitBytes = Math.floor(config.spaceMb * MIB);

  const { store, report } = await ChunkStore.open(chunkDir, limitBytes, { fsync: config.fsync });
  if (report.removedTempFiles > 0) log.warn({ removed: report.removedTempFiles }, 'removed temp files of unfinished stores');
  if (!config.fsync) log.warn('fsync = false: acknowledged chunks can be lost or left empty by a power loss or kernel crash');

  const pool = new BufferPool(Math.floor(config.bufferPoolMb * MIB));
  const ctx: HandlerContext = { store, log, pool };
  const port = config.port ?? (await recordedPort(infoFile, config.serverId)) ?? 0;
  let server;
  try {
    const stream = { spill: store.spillProvider(pool), minFrameBytes: Math.max(1, Math.floor(config.streamThresholdMb * MIB)) };
    server = await listen({ host: config.host, port, maxFrameBytes: Math.floor(config.maxMessageMb * MIB), stream, ctx, log });
  } catch (err) {
    await store.close();
    throw err;
  }
  await recordServer(infoFile, config.serverId, { port: server.port, data_dir: chunkDir, last_start: Date.now() / 1000 });

  const address = `${config.host}:${server.port}`;
  log.info(
    { address, chunk_dir: chunkDir, space_limit: limitBytes, used: store.space.used, chunks: report.chunks },
    'chunk server listening',
  );

  return {
    address,
    port: server.port,
    store,
    async stop() {
      await server.close(config.shutdownGraceS * 1000);
      await store.close();
    },
  };
}
