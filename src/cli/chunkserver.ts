import { Command } from 'commander';
import { startChunkServer } from '../chunk-server/chunk-server.js';
import { DEFAULT_CONFIG, runCli } from './runner.js';
import { resolveConfig, type CliFlags } from '../config/config.js';
import { resolveSecurity } from '../auth/settings.js';
import { createLogger } from '../logger.js';

function buildProgram(): Command {
  return new Command('chunkserver')
    .description('Chunk server of a GFS-style file system (msgpack framing of the Python reference protocol)')
    .argument('[config]', 'TOML config path (as the reference takes it); same as --config')
    .option('--config <path>', `TOML config path (default ${DEFAULT_CONFIG})`)
    .option('--server_id <id>', 'server id; chunks live in <data_dir>/<server_id>/ (default chunk_server_<unix seconds>)')
    .option('--x <number>', 'x coordinate of this server (default 0)')
    .option('--y <number>', 'y coordinate of this server (default 0)')
    .option('--space <mib>', 'space limit in MiB (default [chunk_server] space_limit_mb, else 1024)')
    .option('--host <host>', 'listen and advertised host (default localhost)')
    .option('--port <port>', 'listen port (default: recorded for this server_id in server_info.json, else a free port)')
    .option('--data_dir <dir>', 'data directory (default data/chunks)')
    .option('--master <host:port>', 'master address (overrides [master] host, port)')
    .option('--no_master', 'run standalone, without a master')
    .option('--metrics_port <port>', 'HTTP port of /metrics and /healthz (default [chunk_server] metrics_port, else 0: off)')
    .option('--log_level <level>', 'fatal, error, warn, info, debug, trace or silent (default info)');
}

export function main(argv: string[]): Promise<void> {
  return runCli(argv, {
    name: 'chunkserver',
    program: buildProgram(),
    resolve: (file, flags: CliFlags) => ({ ...resolveConfig(file, flags), security: resolveSecurity(file) }),
    logger: (config) => createLogger(config.logLevel, { server_id: config.serverId }),
    start: startChunkServer,
  });
}
