import { join, resolve } from 'node:path';
import type { ChunkServerConfig } from '../../config/chunk-server.js';

export const MIB = 1024 * 1024;

/** Where a chunk server keeps things and how much it may hold, from its configuration. */
export interface Layout {
  readonly dataDir: string;
  /** `<data_dir>/<server_id>`: the chunks. */
  readonly chunkDir: string;
  /** The server_id -> port record, so a restart keeps its port. */
  readonly infoFile: string;
  readonly limitBytes: number;
  readonly maxFrameBytes: number;
}

export function layoutOf(config: ChunkServerConfig): Layout {
  const dataDir = resolve(config.dataDir);
  return {
    dataDir,
    chunkDir: join(dataDir, config.serverId),
    infoFile: join(dataDir, config.serverInfoFile),
    limitBytes: Math.floor(config.spaceMb * MIB),
    maxFrameBytes: Math.floor(config.maxMessageMb * MIB),
  };
}
