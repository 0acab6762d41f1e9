// Where the gfs command finds its master and chunk size: flags, then the environment, then
// the config file (the chunk server's TOML, whose [master] and [client] keys are the
// reference's), then the defaults.
import { DEFAULT_CONFIG } from '../runner.js';
import { DEFAULT_CHUNK_SIZE } from '../../client/index.js';
import { ConfigError, num, parseHostPort, readConfigFile, table, text } from '../../config/config.js';

export interface GfsFlags {
  master?: string;
  config?: string;
  chunk_size?: string;
  concurrency?: string;
  key_file?: string;
}

export interface GfsSettings {
  readonly master: string;
  readonly chunkSize: number;
  readonly concurrency: number | undefined;
  /** --key_file, else $GFS_KEY_FILE (the Python one-file switch's variable); none: requests go unsigned. */
  readonly keyFile: string | undefined;
}

const DEFAULT_MASTER_HOST = 'localhost';
const DEFAULT_MASTER_PORT = 5000;

/** Throws ConfigError (a usage error) for a bad flag, variable or file. */
export function resolveSettings(flags: GfsFlags, env: NodeJS.ProcessEnv): GfsSettings {
  const file = readConfigFile(flags.config ?? DEFAULT_CONFIG, flags.config !== undefined);
  const m = table(file, 'master');
  const c = table(file, 'client');
  let master: string;
  if (flags.master !== undefined) master = checked('--master', flags.master);
  else if (env.GFS_MASTER) master = checked('GFS_MASTER', env.GFS_MASTER);
  else {
    const host = m.host === undefined ? DEFAULT_MASTER_HOST : text('[master] host', m.host);
    const port = m.port === undefined ? DEFAULT_MASTER_PORT : num('[master] port', m.port, (n) => Number.isInteger(n) && n > 0 && n <= 65535, 'a port number 1-65535');
    master = `${host}:${port}`;
  }
  const whole = (n: number): boolean => Number.isInteger(n) && n > 0;
  const chunkSize =
    flags.chunk_size !== undefined
      ? num('--chunk_size', flags.chunk_size, whole, 'a positive whole number of bytes')
      : c.upload_chunk_size !== undefined
        ? num('[client] upload_chunk_size', c.upload_chunk_size, whole, 'a positive whole number of bytes')
        : DEFAULT_CHUNK_SIZE;
  const concurrency = flags.concurrency === undefined ? undefined : num('--concurrency', flags.concurrency, whole, 'a positive whole number');
  const keyFile = flags.key_file ?? (env.GFS_KEY_FILE || undefined);
  return { master, chunkSize, concurrency, keyFile };
}

function checked(where: string, value: string): string {
  const { host, port } = parseHostPort(where, value);
  return `${host}:${port}`;
}

export { ConfigError };
