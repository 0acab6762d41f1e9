import type { SecuritySettings } from '../auth/settings.js';
import type { TlsSettings } from '../net/tls.js';
import { ConfigError, table, text, type Table } from './checks.js';
import { etcdAccessOf } from './etcd-access.js';
import { CHUNK_SERVER_KEYS } from './keys/chunk-server.js';
import { MASTER_KEYS as M } from './keys/master.js';
import { defaultsOf, read, readAll, type Settings, type Source } from './schema.js';

// The master reads the same TOML as the chunk servers; its keys live under [master].

export type MasterConfig = Settings<typeof M> & {
  /** --export-metadata: write the namespace as reference-style JSON to this file, then exit. */
  exportMetadata: string | null;
  /** undefined: authentication off (src/config/security.ts resolves [security]). */
  security?: SecuritySettings;
  /** undefined: tls = \"off\" (src/config/tls.ts resolves [security] tls). */
  tls?: TlsSettings;
};

export const MASTER_DEFAULTS: MasterConfig = { ...defaultsOf(M), exportMetadata: null };

export interface MasterFlags {
  host?: string;
  port?: string;
  metadata?: string;
  namespace?: string;
  log_level?: string;
  http_port?: string;
  exportMetadata?: string;
}

/** File values over defaults, flags over both. */
export function resolveMasterConfig(file: Table, flags: MasterFlags): MasterConfig {
  const src: Source = { program: 'master', file, flags: { ...flags } };
  // The reference master reads the chunk servers' interval; [master] may set its own.
  const heartbeatIntervalS = read(M.heartbeatIntervalS, src, { fallback: table(file, 'chunk_server')[CHUNK_SERVER_KEYS.heartbeatIntervalS.key] });
  const config: MasterConfig = {
    ...readAll(M, src),
    heartbeatIntervalS,
    // Unset: twice the heartbeat interval, when the reference master drops a server.
    deadAfterS: read(M.deadAfterS, src, { fallback: 2 * heartbeatIntervalS }),
    exportMetadata: flags.exportMetadata === undefined ? null : text('--export-metadata', flags.exportMetadata),
  };
  if (config.distanceWeight + config.spaceWeight === 0) throw new ConfigError('[master] distance_weight and space_weight cannot both be 0');
  etcdAccessOf(config);
  return config;
}
