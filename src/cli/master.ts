import { Command } from 'commander';
import type { Logger } from 'pino';
import { runCli } from './runner.js';
import { DEFAULT_CONFIG } from '../config/file.js';
import { MASTER_KEYS as M } from '../config/keys/master.js';
import { resolveMasterConfig, type MasterConfig, type MasterFlags } from '../config/master.js';
import { flagOption } from '../config/schema.js';
import { resolveSecurity } from '../config/security.js';
import { resolveTls } from '../config/tls.js';
import { createLogger } from '../logger.js';
import { exportMetadata, startMaster } from '../master/main.js';

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
    .option(...flagOption(M.host, 'master'))
    .option(...flagOption(M.port, 'master'))
    .option(...flagOption(M.metadataFile, 'master'))
    .option(...flagOption(M.namespaceDir, 'master'))
    .option('--export-metadata <file>', 'write the namespace as reference-style metadata JSON to FILE and exit')
    .option(...flagOption(M.httpPort, 'master'))
    .option(...flagOption(M.logLevel, 'master'));
}

export function main(argv: string[]): Promise<void> {
  return runCli(argv, {
    name: 'master',
    program: buildProgram(),
    resolve: (file, flags: MasterFlags) => ({ ...resolveMasterConfig(file, flags), security: resolveSecurity(file), tls: resolveTls(file) }),
    logger: (config) => createLogger(config.logLevel, { role: 'master' }),
    start: (config, log) => (config.exportMetadata === null ? startMaster(config, log) : exportAndExit(config, config.exportMetadata, log)),
  });
}
