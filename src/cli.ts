import { Command, CommanderError } from 'commander';
import { startChunkServer } from './chunk-server.js';
import { ConfigError, readConfigFile, resolveConfig, type CliFlags } from './config.js';
import { createLogger } from './logger.js';

const DEFAULT_CONFIG = './chunk_server.toml';
// Usage errors exit with 2, as POSIX tools do; start-up failures (port taken, disk) with 1.
const EXIT_USAGE = 2;
const EXIT_FAILURE = 1;

function usageError(message: string): never {
  process.stderr.write(`chunkserver: ${message}\n`);
  process.exit(EXIT_USAGE);
}

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
    .option('--log_level <level>', 'fatal, error, warn, info, debug, trace or silent (default info)')
    .exitOverride()
    .configureOutput({ writeErr: () => undefined });
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    program.parse(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) process.exit(0);
      usageError(err.message.replace(/^error: /, ''));
    }
    throw err;
  }
  const flags = program.opts<CliFlags & { config?: string }>();
  const positional = program.args[0];
  if (flags.config !== undefined && positional !== undefined && positional !== flags.config) {
    usageError(`two config paths given: ${positional} and --config ${flags.config}`);
  }
  const configPath = flags.config ?? positional;

  let config;
  try {
    config = resolveConfig(readConfigFile(configPath ?? DEFAULT_CONFIG, configPath !== undefined), flags);
  } catch (err) {
    if (err instanceof ConfigError) usageError(err.message);
    throw err;
  }

  const log = createLogger(config.logLevel, { server_id: config.serverId });
  let server;
  try {
    server = await startChunkServer(config, log);
  } catch (err) {
    log.fatal({ err }, 'chunk server failed to start');
    process.stderr.write(`chunkserver: cannot start: ${(err as Error).message}\n`);
    process.exit(EXIT_FAILURE);
  }

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    server.stop().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, 'error during shutdown');
        process.exit(EXIT_FAILURE);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}
