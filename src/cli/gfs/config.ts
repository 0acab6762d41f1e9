// Where the gfs command finds its master and chunk size: flags, then the environment, then
// the config file (the chunk server's TOML, whose [master] and [client] keys are the
// reference's), then the defaults.
import type { ClientTlsFiles } from '../../client/index.js';
import { ConfigError, connectPort, hostPort, numberCheck } from '../../config/checks.js';
import { DEFAULT_CONFIG, readConfigFile } from '../../config/file.js';
import { CLIENT_KEYS } from '../../config/keys/client.js';
import { MASTER_KEYS } from '../../config/keys/master.js';
import { read, where } from '../../config/schema.js';

export interface GfsFlags {
  master?: string;
  config?: string;
  chunk_size?: string;
  concurrency?: string;
  key_file?: string;
  tls_ca?: string;
  tls_cert?: string;
  tls_key?: string;
  timeout?: string;
  encryption_key_file?: string;
}

export interface GfsSettings {
  readonly master: string;
  readonly chunkSize: number;
  readonly concurrency: number | undefined;
  /** --key_file, else $GFS_KEY_FILE (the Python one-file switch's variable); none: requests go unsigned. */
  readonly keyFile: string | undefined;
  /** --tls_ca (else $GFS_TLS_CA, the Python switch's variable) with --tls_cert/--tls_key; none: plain TCP. */
  readonly tls: ClientTlsFiles | undefined;
  /** --timeout in ms; none: the library's default. */
  readonly timeoutMs: number | undefined;
  /** --encryption_key_file, else $GFS_ENCRYPTION_KEY_FILE, else [client] encryption_key_file; none: $GFS_PASSPHRASE, if set. */
  readonly encryptionKeyFile: string | undefined;
}

const concurrencyCheck = numberCheck((n) => Number.isInteger(n) && n > 0, 'a positive whole number');
const timeoutCheck = numberCheck((n) => n > 0, 'a positive number of seconds');

/** Throws ConfigError (a usage error) for a bad flag, variable or file. */
export function resolveSettings(flags: GfsFlags, env: NodeJS.ProcessEnv): GfsSettings {
  const file = { file: readConfigFile(flags.config ?? DEFAULT_CONFIG, flags.config !== undefined) };
  let master: string;
  if (flags.master !== undefined) master = checked('--master', flags.master);
  else if (env.GFS_MASTER) master = checked('GFS_MASTER', env.GFS_MASTER);
  else master = `${read(MASTER_KEYS.host, file)}:${read(MASTER_KEYS.port, file, { check: connectPort })}`;
  // Unlike the servers' flags, --chunk_size does not lend its name to a bad file value.
  const chunk = CLIENT_KEYS.chunkSize;
  const chunkSize = flags.chunk_size !== undefined ? chunk.check(where(chunk, 'gfs'), flags.chunk_size) : read(chunk, file);
  const concurrency = flags.concurrency === undefined ? undefined : concurrencyCheck('--concurrency', flags.concurrency);
  const keyFile = flags.key_file ?? (env.GFS_KEY_FILE || undefined);
  const timeoutMs = flags.timeout === undefined ? undefined : timeoutCheck('--timeout', flags.timeout) * 1000;
  const caFile = flags.tls_ca ?? (env.GFS_TLS_CA || undefined);
  const certFile = flags.tls_cert ?? (env.GFS_TLS_CERT || undefined);
  const tlsKeyFile = flags.tls_key ?? (env.GFS_TLS_KEY || undefined);
  if (caFile === undefined && (certFile !== undefined || tlsKeyFile !== undefined)) throw new ConfigError('--tls_cert and --tls_key need --tls_ca');
  if ((certFile === undefined) !== (tlsKeyFile === undefined)) throw new ConfigError('--tls_cert and --tls_key go together');
  const tls = caFile === undefined ? undefined : { caFile, certFile, keyFile: tlsKeyFile };
  const encryptionKeyFile = flags.encryption_key_file ?? (env.GFS_ENCRYPTION_KEY_FILE || undefined) ?? read(CLIENT_KEYS.encryptionKeyFile, file) ?? undefined;
  return { master, chunkSize, concurrency, keyFile, tls, timeoutMs, encryptionKeyFile };
}

/** One "host:port", or several separated by commas (several masters over etcd: the client finds the leader). */
function checked(name: string, value: string): string {
  return value
    .split(',')
    .map((one) => {
      const { host, port } = hostPort(name, one.trim());
      return `${host}:${port}`;
    })
    .join(',');
}
