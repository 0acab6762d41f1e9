import { Command } from 'commander';
import { startChunkServer } from '../chunk-server/main.js';
import { runCli } from './runner.js';
import { resolveConfig, type CliFlags } from '../config/chunk-server.js';
import { DEFAULT_CONFIG } from '../config/file.js';
import { CHUNK_SERVER_KEYS as C } from '../config/keys/chunk-server.js';
import { flagOption } from '../config/schema.js';
import { resolveSecurity } from '../config/security.js';
import { resolveTls } from '../config/tls.js';
import { createLogger } from '../logger.js';

function buildProgram(): Command {
  return new Command('chunkserver')
    .description('Chunk server of a GFS-style file system (msgpack framing of the Python reference protocol)')
    .argument('[config]', 'TOML config path (as the reference takes it); same as --config')
    .option('--config <path>', `TOML config path (default ${DEFAULT_CONFIG})`)
    .option(...flagOption(C.serverId, 'chunkserver'))
    .option('--x <number>', 'x coordinate of this server (default 0)')
    .option('--y <number>', 'y coordinate of this server (default 0)')
    .option(...flagOption(C.spaceMb, 'chunkserver'))
    .option(...flagOption(C.host, 'chunkserver'))
    .option(...flagOption(C.port, 'chunkserver'))
    .option(...flagOption(C.dataDir, 'chunkserver'))
    .option('--master <host:port>', 'master address (overrides [master] host, port)')
    .option('--no_master', 'run standalone, without a master')
    .option(...flagOption(C.metricsPort, 'chunkserver'))
    .option(...flagOption(C.logLevel, 'chunkserver'));
}

export function main(argv: string[]): Promise<void> {
  return runCli(argv, {
    name: 'chunkserver',
    program: buildProgram(),
    resolve: (file, flags: CliFlags) => ({ ...resolveConfig(file, flags), security: resolveSecurity(file), tls: resolveTls(file) }),
    logger: (config) => createLogger(config.logLevel, { server_id: config.serverId }),
    start: startChunkServer,
  });
}
