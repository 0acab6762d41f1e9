import { resolve } from 'node:path';
import { loadClientCredential } from '../auth/client.js';
import { ConfigError, DEFAULTS as CHUNK_DEFAULTS, logLevel, num, port, positive, table, text, type SecuritySettings, type Table } from '../config/config.js';

// The master reads the same TOML as the chunk servers; its keys live under [master].

export interface MasterConfig {
  /** Listen and advertised host. */
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Servers that should hold each chunk. */
  replicationFactor: number;
  /** Seconds between a chunk server's heartbeats; a server silent for twice this is dropped. */
  heartbeatIntervalS: number;
  /** Weights of the placement score (shared/reference-protocol.md, "How the reference master ranks"). */
  distanceWeight: number;
  spaceWeight: number;
  /** A reference-style metadata.json imported on first start (and left in place); also the default export path. */
  metadataFile: string;
  /** The lmdb namespace directory; default: `namespace` next to metadataFile. */
  namespaceDir: string | null;
  /** A server silent this long is dead: its replicas are lost until it reports again. */
  deadAfterS: number;
  /** Chunks no file lists are deleted from their servers after this long. */
  gcGraceS: number;
  /** Copies in flight per server (as source or target). */
  maxCopiesPerServer: number;
  /** A copy or delete instruction not seen done in a report after this long is given up. */
  instructionTimeoutS: number;
  /** Seconds between passes of the re-replication loop over chunks marked pending. */
  replicationIntervalS: number;
  /** Seconds after its last client_heartbeat that a client is forgotten. */
  clientTimeoutS: number;
  /** Largest accepted frame body, in MiB (also the largest chunk re-replication moves). */
  maxMessageMb: number;
  /** TCP connect timeout for re-replication calls, in seconds. */
  connectTimeoutS: number;
  /** Time for one re-replication call (retrieve or store of a chunk), in seconds. */
  peerTimeoutS: number;
  shutdownGraceS: number;
  logLevel: string;
  /** Port of the HTTP side (/metrics, /healthz, the console and /api/); 0: no HTTP side. */
  httpPort: number;
  /** Host the HTTP side binds to; null: the master's own host. */
  httpHost: string | null;
  /** Bytes per chunk of a file uploaded through the console, in MiB. */
  consoleChunkMb: number;
  /** A client key file (`<client_id>.key`) the console signs its requests with under client_auth; null: unsigned. */
  consoleKeyFile: string | null;
  /** --export-metadata: write the namespace as reference-style JSON to this file, then exit. */
  exportMetadata: string | null;
  /** undefined: authentication off (src/auth/settings.ts resolves [security]). */
  security?: SecuritySettings;
}

export const MASTER_DEFAULTS: MasterConfig = {
  host: 'localhost',
  port: 5000,
  replicationFactor: 3,
  heartbeatIntervalS: 5,
  distanceWeight: 0.6,
  spaceWeight: 0.4,
  metadataFile: 'data/metadata/metadata.json',
  namespaceDir: null,
  deadAfterS: 10,
  gcGraceS: 3600,
  maxCopiesPerServer: 2,
  instructionTimeoutS: 120,
  replicationIntervalS: 10,
  clientTimeoutS: 60,
  maxMessageMb: CHUNK_DEFAULTS.maxMessageMb,
  connectTimeoutS: 2,
  peerTimeoutS: 30,
  shutdownGraceS: 10,
  logLevel: 'info',
  httpPort: 0,
  httpHost: null,
  consoleChunkMb: 64,
  consoleKeyFile: null,
  exportMetadata: null,
};

export interface MasterFlags {
  host?: string;
  port?: string;
  metadata?: string;
  namespace?: string;
  log_level?: string;
  http_port?: string;
  exportMetadata?: string;
}

/** The console's key file, read now so that a missing or weak key stops the master at start-up (as [security] keys do). */
function consoleKey(path: string): string {
  try {
    loadClientCredential(path);
  } catch (err) {
    throw new ConfigError(`[master] console_key_file: ${(err as Error).message}`);
  }
  return resolve(path);
}

/** File values over defaults, flags over both. */
export function resolveMasterConfig(file: Table, flags: MasterFlags): MasterConfig {
  const m = table(file, 'master');
  const c = table(file, 'chunk_server');
  const pick = (flag: unknown, fileValue: unknown, fallback: unknown): unknown =>
    flag !== undefined ? flag : fileValue !== undefined ? fileValue : fallback;
  const seconds = (key: string, v: unknown): number => num(`[master] ${key}`, v, positive, 'a positive number of seconds');
  const weight = (key: string, v: unknown): number => num(`[master] ${key}`, v, (n) => n >= 0, 'a number >= 0');

  const config: MasterConfig = {
    host: text('--host', pick(flags.host, m.host, MASTER_DEFAULTS.host)),
    port: num('--port', pick(flags.port, m.port, MASTER_DEFAULTS.port), port, 'a port number 0-65535'),
    replicationFactor: num(
      '[master] replication_factor',
      pick(undefined, m.replication_factor, MASTER_DEFAULTS.replicationFactor),
      (n) => Number.isInteger(n) && n >= 1,
      'an integer >= 1',
    ),
    // The reference master reads the chunk servers' interval; [master] may set its own.
    heartbeatIntervalS: seconds('heartbeat_interval', pick(undefined, m.heartbeat_interval ?? c.heartbeat_interval, MASTER_DEFAULTS.heartbeatIntervalS)),
    distanceWeight: weight('distance_weight', pick(undefined, m.distance_weight, MASTER_DEFAULTS.distanceWeight)),
    spaceWeight: weight('space_weight', pick(undefined, m.space_weight, MASTER_DEFAULTS.spaceWeight)),
    metadataFile: text('--metadata', pick(flags.metadata, m.metadata_file, MASTER_DEFAULTS.metadataFile)),
    namespaceDir: (() => {
      const v = pick(flags.namespace, m.namespace_dir, undefined);
      return v === undefined ? null : text('--namespace', v);
    })(),
    deadAfterS: 0,
    gcGraceS: num('[master] gc_grace_s', pick(undefined, m.gc_grace_s, MASTER_DEFAULTS.gcGraceS), (n) => n >= 0, 'a number of seconds >= 0'),
    maxCopiesPerServer: num(
      '[master] max_copies_per_server',
      pick(undefined, m.max_copies_per_server, MASTER_DEFAULTS.maxCopiesPerServer),
      (n) => Number.isInteger(n) && n >= 1,
      'an integer >= 1',
    ),
    instructionTimeoutS: seconds('instruction_timeout_s', pick(undefined, m.instruction_timeout_s, MASTER_DEFAULTS.instructionTimeoutS)),
    replicationIntervalS: seconds('replication_interval', pick(undefined, m.replication_interval, MASTER_DEFAULTS.replicationIntervalS)),
    clientTimeoutS: seconds('client_timeout', pick(undefined, m.client_timeout, MASTER_DEFAULTS.clientTimeoutS)),
    maxMessageMb: num('[master] max_message_mb', pick(undefined, m.max_message_mb, MASTER_DEFAULTS.maxMessageMb), (n) => n > 0 && n <= 4095, 'a number of MiB in (0, 4095]'),
    connectTimeoutS: seconds('connect_timeout_s', pick(undefined, m.connect_timeout_s, MASTER_DEFAULTS.connectTimeoutS)),
    peerTimeoutS: seconds('peer_timeout_s', pick(undefined, m.peer_timeout_s, MASTER_DEFAULTS.peerTimeoutS)),
    shutdownGraceS: num('[master] shutdown_grace_s', pick(undefined, m.shutdown_grace_s, MASTER_DEFAULTS.shutdownGraceS), (n) => n >= 0, 'a number of seconds >= 0'),
    logLevel: logLevel(pick(flags.log_level, m.log_level, MASTER_DEFAULTS.logLevel)),
    httpPort: num('--http_port', pick(flags.http_port, m.http_port, MASTER_DEFAULTS.httpPort), port, 'a port number 0-65535 (0: off)'),
    httpHost: m.http_host === undefined ? MASTER_DEFAULTS.httpHost : text('[master] http_host', m.http_host),
    consoleChunkMb: num('[master] console_chunk_mb', pick(undefined, m.console_chunk_mb, MASTER_DEFAULTS.consoleChunkMb), (n) => n > 0 && n <= 64, 'a number of MiB in (0, 64]'),
    consoleKeyFile: m.console_key_file === undefined ? MASTER_DEFAULTS.consoleKeyFile : consoleKey(text('[master] console_key_file', m.console_key_file)),
    exportMetadata: flags.exportMetadata === undefined ? null : text('--export-metadata', flags.exportMetadata),
  };
  // Unset: twice the heartbeat interval, when the reference master drops a server.
  config.deadAfterS = seconds('dead_after_s', pick(undefined, m.dead_after_s, 2 * config.heartbeatIntervalS));
  if (config.distanceWeight + config.spaceWeight === 0) throw new ConfigError('[master] distance_weight and space_weight cannot both be 0');
  return config;
}
