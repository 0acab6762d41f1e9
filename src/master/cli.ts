import { Command } from 'commander';
import { DEFAULT_CONFIG, runCli } from '../cli-runner.js';
import { createLogger } from '../logger.js';
import { resolveMasterConfig, type MasterFlags } from './config.js';
import { startMaster } from './master.js';

function buildProgram(): Command {
  return new Command('master')
    .description('Master of a GFS-style file system: chunk server registry, placement, file metadata, re-replication')
    .argument('[config]', 'TOML config path; same as --config')
    .option('--config <path>', `TOML config path, keys under [master] (default ${DEFAULT_CONFIG})`)
    .option('--host <host>', 'listen host (default [master] host, else localhost)')
    .option('--port <port>', 'listen port, 0 for a free one (default [master] port, else 5000)')
    .option('--metadata <path>', 'metadata JSON file (default [master] metadata_file, else data/metadata/metadata.json)')
    .option('--http_port <port>', 'HTTP port of /metrics, /healthz, the web console and /api/ (default [master] http_port, else 0: off)')
    .option('--log_level <level>', 'fatal, error, warn, info, debug, trace or silent (default info)');
}

export function main(argv: string[]): Promise<void> {
  return runCli(argv, {
    name: 'master',
    program: buildProgram(),
    resolve: (file, flags: MasterFlags) => resolveMasterConfig(file, flags),
    logger: (config) => createLogger(config.logLevel, { role: 'master' }),
    start: startMaster,
  });
}
