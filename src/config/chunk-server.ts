import type { SecuritySettings } from '../auth/settings.js';
import type { TlsSettings } from '../net/tls.js';
import { anyNumber, connectPort, hostPort, type Table } from './checks.js';
import { CHUNK_SERVER_KEYS } from './keys/chunk-server.js';
import { MASTER_ENABLED, MASTER_KEYS } from './keys/master.js';
import { defaultsOf, read, readAll, type Settings, type Source } from './schema.js';

export interface MasterLink {
  /** false: standalone, no registration and no replication. */
  enabled: boolean;
  host: string;
  port: number;
  replicationFactor: number;
}

export type ChunkServerConfig = Omit<Settings<typeof CHUNK_SERVER_KEYS>, 'serverId'> & {
  serverId: string;
  /** This server's location, which placement weighs against the client's. */
  x: number;
  y: number;
  master: MasterLink;
  /** undefined: authentication off (src/config/security.ts resolves [security]). */
  security?: SecuritySettings;
  /** undefined: tls = \"off\" (src/config/tls.ts resolves [security] tls). */
  tls?: TlsSettings;
};

// serverId has no default of its own: unset, it is made from the start time.
const { serverId: _unset, ...rowDefaults } = defaultsOf(CHUNK_SERVER_KEYS);

export const DEFAULTS: Omit<ChunkServerConfig, 'serverId'> = {
  ...rowDefaults,
  x: 0,
  y: 0,
  master: { enabled: MASTER_ENABLED.default, host: MASTER_KEYS.host.default, port: MASTER_KEYS.port.default, replicationFactor: MASTER_KEYS.replicationFactor.default },
};

/** Flags as commander hands them over: strings, or booleans for switches. */
export interface CliFlags {
  server_id?: string;
  x?: string;
  y?: string;
  space?: string;
  host?: string;
  port?: string;
  data_dir?: string;
  master?: string;
  no_master?: boolean;
  log_level?: string;
  metrics_port?: string;
}

function masterLink(src: Source, flags: CliFlags): MasterLink {
  let link: MasterLink = {
    enabled: read(MASTER_ENABLED, src),
    host: read(MASTER_KEYS.host, src),
    // The master may listen on 0 (a free port); a chunk server must be told the real one.
    port: read(MASTER_KEYS.port, src, { check: connectPort }),
    replicationFactor: read(MASTER_KEYS.replicationFactor, src),
  };
  if (flags.master !== undefined) link = { ...link, ...hostPort('--master', flags.master), enabled: true };
  if (flags.no_master) link = { ...link, enabled: false };
  return link;
}

/** File values over defaults, flags over both; every value checked, with the offending key named. */
export function resolveConfig(file: Table, flags: CliFlags, nowS = Math.floor(Date.now() / 1000)): ChunkServerConfig {
  const src: Source = { program: 'chunkserver', file, flags: { ...flags } };
  const master = masterLink(src, flags);
  const settings = readAll(CHUNK_SERVER_KEYS, src);
  return {
    ...settings,
    serverId: settings.serverId ?? `chunk_server_${nowS}`,
    x: anyNumber('--x', flags.x ?? DEFAULTS.x),
    y: anyNumber('--y', flags.y ?? DEFAULTS.y),
    master,
  };
}
