import { Command, CommanderError } from 'commander';
import { ConfigError, readConfigFile } from '../config.js';
import { createLogger } from '../logger.js';
import { resolveMasterConfig, type MasterFlags } from './config.js';
import { startMaster } from './master.js';

const DEFAULT_CONFIG = './chunk_server.toml';
const EXIT_USAGE = 2;
const EXIT_FAILURE = 1;

function usageError(message: string): never {
  process.stderr.write(`master: ${message}\n`);
  process.exit(EXIT_USAGE);
}

function buildProgram(): Command {
  return new Command('master')
    .description('Master of a GFS-style file system: chunk server registry, placement, file metadata, re-replication')
    .argument('[config]', 'TOML config path; same as --config')
    .option('--config <path>', `TOML config path, keys under [master] (default ${DEFAULT_CONFIG})`)
    .option('--host <host>', 'listen host (default [master] host, else localhost)')
    .option('--port <port>', 'listen port, 0 for a free one (default [master] port, else 5000)')
    .option('--metadata <path>', 'metadata JSON file (default [master] metadata_file, else data/metadata/metadata.json)')
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
  const flags = program.opts<MasterFlags & { config?: string }>();
  const positional = program.args[0];
  if (flags.config !== undefined && positional !== undefined && positional !== flags.config) {
    usageError(`two config paths given: ${positional} and --config ${flags.config}`);
  }
  const configPath = flags.config ?? positional;

  let config;
  try {
    config = resolveMasterConfig(readConfigFile(configPath ?? DEFAULT_CONFIG, configPath !== undefined), flags);
  } catch (err) {
    if (err instanceof ConfigError) usageError(err.message);
    throw err;
  }

  const log = createLogger(config.logLevel, { role: 'master' });
  let master;
  try {
    master = await startMaster(config, log);
  } catch (err) {
    log.fatal({ err }, 'master failed to start');
    process.stderr.write(`master: cannot start: ${(err as Error).message}\n`);
    process.exit(EXIT_FAILURE);
  }

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    master.stop().then(
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
