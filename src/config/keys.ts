// Every section and key either server reads from the shared TOML file, plus every key of
// the Python reference's own config file (which our servers must keep starting from, even
// where they have no use for the value). Anything else is a typo or a setting we do not
// have: refusing it at start-up beats running with, say, security silently off.
// A helper that adds a config key adds it here too (test/server/config-keys.test.ts checks
// that every key the resolvers read is listed).
export const KNOWN_KEYS: Readonly<Record<string, readonly string[]>> = {
  master: [
    // Ours and the reference's.
    'host', 'port', 'replication_factor', 'heartbeat_interval', 'distance_weight', 'space_weight',
    'metadata_file', 'replication_interval', 'client_timeout', 'max_message_mb', 'connect_timeout_s',
    'peer_timeout_s', 'shutdown_grace_s', 'log_level', 'enabled',
    // The healing cluster (issue 11).
    'namespace_dir', 'dead_after_s', 'gc_grace_s', 'max_copies_per_server', 'instruction_timeout_s',
    // The HTTP side and the console (issue 13).
    'http_port', 'http_host', 'console_chunk_mb', 'console_key_file',
    // The reference's only.
    'chunk_size',
  ],
  chunk_server: [
    'server_id', 'space_limit_mb', 'host', 'port', 'data_dir', 'server_info_file', 'heartbeat_interval',
    'max_message_mb', 'buffer_pool_mb', 'max_connections', 'idle_timeout_s', 'frame_timeout_s',
    'stream_threshold_mb', 'fsync', 'shutdown_grace_s', 'log_level', 'transaction_ttl_s', 'transaction_log',
    'connect_timeout_s', 'master_timeout_s', 'peer_timeout_s', 'peer_concurrency', 'scrub_interval_s',
    'scrub_rate_mb_s', 'max_prepared', 'wal_max_kb', 'chunk_report_interval_s', 'write_timeout_s', 'frame_memory_mb', 'peers',
    'metrics_port',
    // The reference's only.
    'base_port',
  ],
  // The reference client's section: read by its client, accepted here so its file starts our servers.
  client: ['upload_chunk_size', 'download_chunk_size', 'heartbeat_interval', 'master_host', 'master_port', 'timeout'],
  security: ['cluster_key_file', 'client_auth', 'client_keys_dir', 'replay_window_s'],
};

// Settings people look for that we do not have: a pointer instead of a bare "unknown key".
const NOT_BUILT_IN: Readonly<Record<string, string>> = {
  'security.tls_cert': 'TLS is not built in; put a TLS proxy in front (README, "Securing a cluster")',
  'security.tls_key': 'TLS is not built in; put a TLS proxy in front (README, "Securing a cluster")',
  'security.tls_ca': 'TLS is not built in; put a TLS proxy in front (README, "Securing a cluster")',
};

/** What is wrong with a parsed file's sections and keys (the first unknown one), or null. */
export function unknownKeyProblem(file: Record<string, unknown>): string | null {
  for (const [section, value] of Object.entries(file)) {
    const keys = Object.hasOwn(KNOWN_KEYS, section) ? KNOWN_KEYS[section] : undefined;
    if (keys === undefined) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return `unknown top-level key ${section}`;
      return `unknown section [${section}] (known: ${Object.keys(KNOWN_KEYS).map((s) => `[${s}]`).join(', ')})`;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) continue;
    for (const key of Object.keys(value)) {
      const why = NOT_BUILT_IN[`${section}.${key}`];
      if (why !== undefined) return `[${section}] ${key}: ${why}`;
      if (!keys.includes(key)) return `unknown key ${key} in [${section}]`;
    }
  }
  return null;
}
