import { Command, CommanderError } from 'commander';
import type { Logger } from 'pino';
import { ConfigError } from '../config/checks.js';
import { DEFAULT_CONFIG, readConfigFile } from '../config/file.js';
import { EXIT_FAILED, EXIT_USAGE } from './exit-codes.js';

export interface CliSpec<Flags, Config, Service extends { stop(): Promise<void> }> {
  /** Program name, the prefix of every line written to stderr. */
  readonly name: string;
  /** The commander program: `[config]` argument, `--config` and the service's own flags. */
  readonly program: Command;
  readonly resolve: (file: Record<string, unknown>, flags: Flags) => Config;
  readonly logger: (config: Config) => Logger;
  readonly start: (config: Config, log: Logger) => Promise<Service>;
}

/**
 * The shared life of a command-line server: parse flags (exit 2 with one line on a bad one),
 * read the TOML file (a positional path or --config), start (exit 1 with one line if that
 * fails), and on SIGINT/SIGTERM stop gracefully and exit 0.
 */
export async function runCli<Flags, Config, Service extends { stop(): Promise<void> }>(
  argv: string[],
  spec: CliSpec<Flags, Config, Service>,
): Promise<void> {
  const program = spec.program.exitOverride().configureOutput({ writeErr: () => undefined });
  try {
    program.parse(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) process.exit(0);
      usageError(spec.name, err.message.replace(/^error: /, ''));
    }
    throw err;
  }
  const flags = program.opts<Flags & { config?: string }>();
  const positional = program.args[0];
  if (flags.config !== undefined && positional !== undefined && positional !== flags.config) {
    usageError(spec.name, `two config paths given: ${positional} and --config ${flags.config}`);
  }
  const configPath = flags.config ?? positional;

  let config: Config;
  try {
    config = spec.resolve(readConfigFile(configPath ?? DEFAULT_CONFIG, configPath !== undefined), flags);
  } catch (err) {
    if (err instanceof ConfigError) usageError(spec.name, err.message);
    throw err;
  }

  const log = spec.logger(config);
  let service: Service;
  try {
    service = await spec.start(config, log);
  } catch (err) {
    log.fatal({ err }, `${spec.name} failed to start`);
    process.stderr.write(`${spec.name}: cannot start: ${(err as Error).message}\n`);
    process.exit(EXIT_FAILED);
  }

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    service.stop().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, 'error during shutdown');
        process.exit(EXIT_FAILED);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

function usageError(name: string, message: string): never {
  process.stderr.write(`${name}: ${message}\n`);
  process.exit(EXIT_USAGE);
}
