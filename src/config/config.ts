import { readFileSync } from 'node:fs';
import { parse as parseToml } from 'smol-toml';
import { unknownKeyProblem } from './keys.js';

/** A configuration problem; the CLI prints its message on one line and exits with status 2. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface ChunkServerConfig {
  serverId: string;
  x: number;
  y: number;
  /** Hard limit on the bytes in this server's chunk directory, in MiB. */
  spaceMb: number;
  /** Listen and advertised host. */
  host: string;
  /** null: the port recorded for this server_id, else a free one. */
  port: number | null;
  dataDir: string;
  /** File name under data_dir mapping server_id -> {port, data_dir, last_start}. */
  serverInfoFile: string;
  master: { enabled: boolean; host: string; port: number; replicationFactor: number };
  heartbeatIntervalS: number;
  /** Largest accepted frame body, in MiB (a 64 MiB chunk plus its fields fits in 80). */
  maxMessageMb: number;
  /** Upper bound on idle pooled buffer memory kept for reuse, in MiB. */
  bufferPoolMb: number;
  /** Open client connections beyond this are refused with `too_many_connections`. */
  maxConnections: number;
  /** Seconds a connection may sit with no request under way before it is closed. */
  idleTimeoutS: number;
  /** Seconds a frame may take from its first byte to its last. */
  frameTimeoutS: number;
  /** A reply the client does not take within this many seconds (one write or drain) closes the connection. */
  writeTimeoutS: number;
  /** Memory for incoming frame bodies held at once over all connections, in MiB. */
  frameMemoryMb: number;
  /** Standalone (no master): the only `host:port` addresses replicate_chunk may forward to. */
  peers: string[];
  /** Frames at least this large (MiB) stream their large bin values to a temp file as they arrive. */
  streamThresholdMb: number;
  /** false skips fsync of chunk files and the chunk directory (opt-in; see README for the risk). */
  fsync: boolean;
  /** How long SIGINT/SIGTERM waits for in-flight requests, in seconds. */
  shutdownGraceS: number;
  logLevel: string;
  /** A prepared transaction neither committed nor rolled back within this many seconds is rolled back. */
  transactionTtlS: number;
  /** Prepared transactions pending at once at most; a prepare beyond gets too_many_prepared. */
  maxPrepared: number;
  /** One write-ahead log file at most, in KiB (two exist); 0 turns the log off. At most 128, so the log stays inside the disk margin. */
  walMaxKb: number;
  /** Transaction log file (START/PREPARE/COMMIT/ROLLBACK/EXPIRE lines); relative paths are under data_dir. */
  transactionLog: string;
  /** TCP connect timeout for calls to the master and to peers, in seconds. */
  connectTimeoutS: number;
  /** Time for one call to the master, or a check_space to a peer, in seconds. */
  masterTimeoutS: number;
  /** Time for one call carrying chunk data to a peer (replica store, append, chain hop), in seconds. */
  peerTimeoutS: number;
  /** Calls in flight to one peer (or the master) at once; more wait their turn. */
  peerConcurrency: number;
  /** Seconds between the starts of two scrub passes (each reads and checks every chunk). */
  scrubIntervalS: number;
  /** Seconds between full chunk reports to the master (changes go with every heartbeat). */
  chunkReportIntervalS: number;
  /** Most the scrubber reads, in MiB per second, so client requests keep the disk. */
  scrubRateMbS: number;
  /** HTTP port of GET /metrics and /healthz, on `host`; 0: no HTTP side. */
  metricsPort: number;
  /** undefined: authentication off (src/auth/settings.ts resolves [security]). */
  security?: SecuritySettings;
}

/** [security], resolved by src/auth/settings.ts (keys read at start-up); absent: authentication off. */
export interface SecuritySettings {
  /** The cluster key file's secrets; the first signs, any verifies. */
  readonly clusterKeys: readonly Buffer[];
  readonly clientAuth: 'off' | 'writes' | 'all';
  /** `<dir>/<client_id>.key` per client; null when client_auth is off. */
  readonly clientKeysDir: string | null;
  /** A proof's timestamp may be this far from the receiver's clock, either side. */
  readonly replayWindowS: number;
}

export const DEFAULTS: Omit<ChunkServerConfig, 'serverId'> = {
  x: 0,
  y: 0,
  spaceMb: 1024,
  host: 'localhost',
  port: null,
  dataDir: 'data/chunks',
  serverInfoFile: 'server_info.json',
  master: { enabled: true, host: 'localhost', port: 5000, replicationFactor: 3 },
  heartbeatIntervalS: 5,
  maxMessageMb: 80,
  bufferPoolMb: 256,
  maxConnections: 1024,
  idleTimeoutS: 300,
  frameTimeoutS: 120,
  writeTimeoutS: 60,
  frameMemoryMb: 512,
  peers: [],
  streamThresholdMb: 1,
  fsync: true,
  shutdownGraceS: 10,
  logLevel: 'info',
  transactionTtlS: 300,
  maxPrepared: 1000,
  walMaxKb: 128,
  transactionLog: 'transactions.log',
  connectTimeoutS: 2,
  masterTimeoutS: 5,
  peerTimeoutS: 30,
  peerConcurrency: 4,
  scrubIntervalS: 86_400,
  chunkReportIntervalS: 600,
  scrubRateMbS: 50,
  metricsPort: 0,
};

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

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

export type Table = Record<string, unknown>;

export function table(root: Table, name: string): Table {
  const v = root[name];
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError(`config: [${name}] must be a table`);
  return v as Table;
}

export function num(where: string, v: unknown, check: (n: number) => boolean, want: string): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || !check(n)) {
    throw new ConfigError(`${where} must be ${want}, got ${JSON.stringify(v)}`);
  }
  return n;
}

export const positive = (n: number): boolean => n > 0;
export const port = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 65535;

export function text(where: string, v: unknown): string {
  if (typeof v !== 'string' || v === '') throw new ConfigError(`${where} must be a non-empty string`);
  return v;
}

function bool(where: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new ConfigError(`${where} must be true or false`);
  return v;
}

/** Reads the TOML file; a missing file is fine unless the user named it. */
export function readConfigFile(path: string, explicit: boolean): Table {
  let source: string;
  try {
    source = readFileSync(path, 'utf8');
  } catch (err) {
    if (!explicit && (err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ConfigError(`cannot read config ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let parsed: Table;
  try {
    parsed = parseToml(source) as Table;
  } catch (err) {
    throw new ConfigError(`invalid TOML in ${path}: ${(err as Error).message.split('\n')[0]}`);
  }
  const problem = unknownKeyProblem(parsed);
  if (problem !== null) throw new ConfigError(`${path}: ${problem}`);
  return parsed;
}

export function parseHostPort(where: string, v: string): { host: string; port: number } {
  const at = v.lastIndexOf(':');
  if (at <= 0) throw new ConfigError(`${where} must be HOST:PORT, got ${JSON.stringify(v)}`);
  return { host: v.slice(0, at), port: num(where, v.slice(at + 1), (n) => port(n) && n > 0, 'a port number 1-65535') };
}

/** File values over defaults, flags over both; every value checked, with the offending key named. */
export function resolveConfig(file: Table, flags: CliFlags, nowS = Math.floor(Date.now() / 1000)): ChunkServerConfig {
  const m = table(file, 'master');
  const c = table(file, 'chunk_server');
  const pick = <T>(flag: T | undefined, fileValue: unknown, fallback: unknown): unknown =>
    flag !== undefined ? flag : fileValue !== undefined ? fileValue : fallback;

  let master = {
    enabled: bool('[master] enabled', pick(undefined, m.enabled, DEFAULTS.master.enabled)),
    host: text('[master] host', pick(undefined, m.host, DEFAULTS.master.host)),
    port: num('[master] port', pick(undefined, m.port, DEFAULTS.master.port), (n) => port(n) && n > 0, 'a port number 1-65535'),
    replicationFactor: num(
      '[master] replication_factor',
      pick(undefined, m.replication_factor, DEFAULTS.master.replicationFactor),
      (n) => Number.isInteger(n) && n >= 1,
      'an integer >= 1',
    ),
  };
  if (flags.master !== undefined) master = { ...master, ...parseHostPort('--master', flags.master), enabled: true };
  if (flags.no_master) master = { ...master, enabled: false };

  const portValue = pick(flags.port, c.port, DEFAULTS.port);
  return {
    serverId: text('--server_id', pick(flags.server_id, c.server_id, `chunk_server_${nowS}`)),
    x: num('--x', pick(flags.x, undefined, DEFAULTS.x), () => true, 'a number'),
    y: num('--y', pick(flags.y, undefined, DEFAULTS.y), () => true, 'a number'),
    spaceMb: num('--space', pick(flags.space, c.space_limit_mb, DEFAULTS.spaceMb), positive, 'a positive number of MiB'),
    host: text('--host', pick(flags.host, c.host, DEFAULTS.host)),
    port: portValue === null ? null : num('--port', portValue, port, 'a port number 0-65535'),
    dataDir: text('--data_dir', pick(flags.data_dir, c.data_dir, DEFAULTS.dataDir)),
    serverInfoFile: text('[chunk_server] server_info_file', pick(undefined, c.server_info_file, DEFAULTS.serverInfoFile)),
    master,
    heartbeatIntervalS: num('[chunk_server] heartbeat_interval', pick(undefined, c.heartbeat_interval, DEFAULTS.heartbeatIntervalS), positive, 'a positive number of seconds'),
    maxMessageMb: num('[chunk_server] max_message_mb', pick(undefined, c.max_message_mb, DEFAULTS.maxMessageMb), (n) => n > 0 && n <= 4095, 'a number of MiB in (0, 4095]'),
    bufferPoolMb: num('[chunk_server] buffer_pool_mb', pick(undefined, c.buffer_pool_mb, DEFAULTS.bufferPoolMb), (n) => n >= 0, 'a number of MiB >= 0'),
    maxConnections: num('[chunk_server] max_connections', pick(undefined, c.max_connections, DEFAULTS.maxConnections), (n) => Number.isInteger(n) && n >= 1, 'an integer >= 1'),
    idleTimeoutS: num('[chunk_server] idle_timeout_s', pick(undefined, c.idle_timeout_s, DEFAULTS.idleTimeoutS), positive, 'a positive number of seconds'),
    frameTimeoutS: num('[chunk_server] frame_timeout_s', pick(undefined, c.frame_timeout_s, DEFAULTS.frameTimeoutS), positive, 'a positive number of seconds'),
    writeTimeoutS: num('[chunk_server] write_timeout_s', pick(undefined, c.write_timeout_s, DEFAULTS.writeTimeoutS), positive, 'a positive number of seconds'),
    frameMemoryMb: num('[chunk_server] frame_memory_mb', pick(undefined, c.frame_memory_mb, DEFAULTS.frameMemoryMb), positive, 'a positive number of MiB'),
    peers: addressList('[chunk_server] peers', pick(undefined, c.peers, DEFAULTS.peers)),
    streamThresholdMb: num('[chunk_server] stream_threshold_mb', pick(undefined, c.stream_threshold_mb, DEFAULTS.streamThresholdMb), positive, 'a positive number of MiB'),
    fsync: bool('[chunk_server] fsync', pick(undefined, c.fsync, DEFAULTS.fsync)),
    shutdownGraceS: num('[chunk_server] shutdown_grace_s', pick(undefined, c.shutdown_grace_s, DEFAULTS.shutdownGraceS), (n) => n >= 0, 'a number of seconds >= 0'),
    logLevel: logLevel(pick(flags.log_level, c.log_level, DEFAULTS.logLevel)),
    walMaxKb: num('[chunk_server] wal_max_kb', pick(undefined, c.wal_max_kb, DEFAULTS.walMaxKb), (n) => Number.isInteger(n) && (n === 0 || (n >= 16 && n <= 128)), 'an integer: 0 (no log) or 16 to 128 KiB'),
    maxPrepared: num('[chunk_server] max_prepared', pick(undefined, c.max_prepared, DEFAULTS.maxPrepared), (n) => Number.isInteger(n) && n >= 1, 'an integer >= 1'),
    transactionTtlS: num('[chunk_server] transaction_ttl_s', pick(undefined, c.transaction_ttl_s, DEFAULTS.transactionTtlS), positive, 'a positive number of seconds'),
    transactionLog: text('[chunk_server] transaction_log', pick(undefined, c.transaction_log, DEFAULTS.transactionLog)),
    connectTimeoutS: num('[chunk_server] connect_timeout_s', pick(undefined, c.connect_timeout_s, DEFAULTS.connectTimeoutS), positive, 'a positive number of seconds'),
    masterTimeoutS: num('[chunk_server] master_timeout_s', pick(undefined, c.master_timeout_s, DEFAULTS.masterTimeoutS), positive, 'a positive number of seconds'),
    peerTimeoutS: num('[chunk_server] peer_timeout_s', pick(undefined, c.peer_timeout_s, DEFAULTS.peerTimeoutS), positive, 'a positive number of seconds'),
    peerConcurrency: num('[chunk_server] peer_concurrency', pick(undefined, c.peer_concurrency, DEFAULTS.peerConcurrency), (n) => Number.isInteger(n) && n >= 1, 'an integer >= 1'),
    chunkReportIntervalS: num('[chunk_server] chunk_report_interval_s', pick(undefined, c.chunk_report_interval_s, DEFAULTS.chunkReportIntervalS), positive, 'a positive number of seconds'),
    scrubIntervalS: num('[chunk_server] scrub_interval_s', pick(undefined, c.scrub_interval_s, DEFAULTS.scrubIntervalS), positive, 'a positive number of seconds'),
    scrubRateMbS: num('[chunk_server] scrub_rate_mb_s', pick(undefined, c.scrub_rate_mb_s, DEFAULTS.scrubRateMbS), positive, 'a positive number of MiB per second'),
    metricsPort: num('--metrics_port', pick(flags.metrics_port, c.metrics_port, DEFAULTS.metricsPort), port, 'a port number 0-65535 (0: off)'),
  };
}

function addressList(where: string, v: unknown): string[] {
  if (!Array.isArray(v)) throw new ConfigError(`${where} must be an array of "host:port" strings`);
  return v.map((a) => {
    const s = text(where, a);
    parseHostPort(where, s);
    return s;
  });
}

export function logLevel(v: unknown): string {
  if (typeof v !== 'string' || !LOG_LEVELS.includes(v)) {
    throw new ConfigError(`--log_level must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(v)}`);
  }
  return v;
}
