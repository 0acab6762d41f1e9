import { Command } from 'commander';
import { DEFAULT_CONFIG, runCli } from './runner.js';
import { resolveSecurity } from '../auth/settings.js';
import { createLogger } from '../logger.js';
import { resolveMasterConfig, type MasterFlags } from '../master/config.js';
import { exportMetadata, startMaster } from '../master/main.js';
import type { MasterConfig } from '../master/config.js';
import type { Logger } from 'pino';

async function exportAndExit(config: MasterConfig, file: string, log: Logger): Promise<never> {
  const files = await exportMetadata(config, file);
  log.info({ file, files }, 'namespace exported');
  process.exit(0);
}

function buildProgram(): Command {
  return new Command('master')
    .description('Master of a GFS-style file system: chunk server registry, placement, file metadata, re-replication')
    .argument('[config]', 'TOML config path; same as --config')
    .option('--config <path>', `TOML config path, keys under [master] (default ${DEFAULT_CONFIG})`)
    .option('--host <host>', 'listen host (default [master] host, else localhost)')
    .option('--port <port>', 'listen port, 0 for a free one (default [master] port, else 5000)')
    .option('--metadata <path>', 'reference-style metadata JSON imported on first start (default [master] metadata_file, else data/metadata/metadata.json)')
    .option('--namespace <dir>', 'lmdb namespace directory (default [master] namespace_dir, else "namespace" next to the metadata file)')
    .option('--export-metadata <file>', 'write the namespace as reference-style metadata JSON to FILE and exit')
    .option('--http_port <port>', 'HTTP port of /metrics, /healthz, the web console and /api/ (default [master] http_port, else 0: off)')
    .option('--log_level <level>', 'fatal, error, warn, info, debug, trace or silent (default info)');
}

export function main(argv: string[]): Promise<void> {
  return runCli(argv, {
    name: 'master',
    program: buildProgram(),
    resolve: (file, flags: MasterFlags) => ({ ...resolveMasterConfig(file, flags), security: resolveSecurity(file) }),
    logger: (config) => createLogger(config.logLevel, { role: 'master' }),
    start: (config, log) => (config.exportMetadata === null ? startMaster(config, log) : exportAndExit(config, config.exportMetadata, log)),
  });
}
