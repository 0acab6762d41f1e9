// [master]: the master's own keys, read by bin/master (host, port and replication_factor by
// the chunk servers too).
import { resolve } from 'node:path';
import { loadClientCredential } from '../../auth/client.js';
import { bool, ConfigError, count, etcdEndpointList, httpPort, listenPort, logLevel, messageMib, nameList, numberCheck, seconds, secondsOrZero, text, weight, type Check } from '../checks.js';
import { row, type Rows } from '../schema.js';
import { CHUNK_SERVER_KEYS, LOG_LEVEL_HELP } from './chunk-server.js';
import { ETCD_ACCESS_KEYS } from './etcd-access.js';

/** The console's key file, read now so that a missing or weak key stops the master at start-up (as [security] keys do). */
const consoleKey: Check<string> = (where, v) => {
  const path = text(where, v);
  try {
    loadClientCredential(path);
  } catch (err) {
    throw new ConfigError(`${where}: ${(err as Error).message}`);
  }
  return resolve(path);
};

export const MASTER_KEYS = {
  host: row({
    section: 'master', key: 'host', default: 'localhost', check: text,
    flags: { master: { name: 'host', arg: '<host>', help: 'listen host (default [master] host, else localhost)' } },
    doc: ['Where the master listens (--master HOST:PORT overrides both).'],
    summary: 'master address (host)',
  }),
  port: row({
    section: 'master', key: 'port', default: 5000, check: listenPort,
    flags: { master: { name: 'port', arg: '<port>', help: 'listen port, 0 for a free one (default [master] port, else 5000)' } },
    doc: [],
    summary: 'master address (port); 0: the master picks a free one',
  }),
  replicationFactor: row({
    section: 'master', key: 'replication_factor', default: 3, check: count,
    doc: ['How many servers should hold each chunk (this one included).'],
    summary: 'servers that should hold each chunk',
  }),
  heartbeatIntervalS: row({
    section: 'master', key: 'heartbeat_interval', default: CHUNK_SERVER_KEYS.heartbeatIntervalS.default, check: seconds,
    doc: [
      'The keys below are read by the master (bin/master) only. Its heartbeat_interval is',
      '[chunk_server] heartbeat_interval unless [master] sets one.',
    ],
    summary: "master's view of the beat interval, s",
    shown: '`[chunk_server] heartbeat_interval`',
    example: '5',
  }),
  distanceWeight: row({
    section: 'master', key: 'distance_weight', default: 0.6, check: weight,
    doc: [
      'Placement score for a client, lower is better:',
      '  distance_weight * distance / 141.4 + space_weight * used / total  (coordinates in 0..100)',
    ],
    summary: "weight of distance in the master's placement score",
  }),
  spaceWeight: row({
    section: 'master', key: 'space_weight', default: 0.4, check: weight,
    doc: [],
    summary: "weight of used space in the master's placement score",
  }),
  metadataFile: row({
    section: 'master', key: 'metadata_file', default: 'data/metadata/metadata.json', check: text,
    flags: { master: { name: 'metadata', arg: '<path>', help: 'reference-style metadata JSON imported on first start (default [master] metadata_file, else data/metadata/metadata.json)' } },
    doc: [
      'A reference-style metadata.json, imported into the namespace on first start and left in',
      'place (--metadata overrides); `master --export-metadata FILE` writes that layout back out.',
    ],
    summary: 'reference-style metadata JSON, imported on first start',
  }),
  namespaceDir: row<string | null>({
    section: 'master', key: 'namespace_dir', default: null, check: text,
    flags: { master: { name: 'namespace', arg: '<dir>', help: 'lmdb namespace directory (default [master] namespace_dir, else "namespace" next to the metadata file)' } },
    doc: [
      'The namespace (lmdb) lives in namespace_dir (--namespace overrides); unset, it is the',
      'folder "namespace" next to metadata_file.',
    ],
    summary: "the master's lmdb namespace",
    shown: '`namespace` next to metadata_file',
    example: '"data/metadata/namespace"',
  }),
  replicationIntervalS: row({
    section: 'master', key: 'replication_interval', default: 10, check: seconds,
    doc: ['Seconds between repair passes: re-replication, stale copies, excess copies, garbage.'],
    summary: "s between the master's repair passes",
  }),
  deadAfterS: row({
    section: 'master', key: 'dead_after_s', default: 10, check: seconds,
    doc: [
      'Seconds of silence after which a chunk server is dead and its copies count as lost',
      "(unset: twice heartbeat_interval, the reference's rule).",
    ],
    summary: 's of silence after which a chunk server is dead',
    shown: '2 × heartbeat_interval',
  }),
  gcGraceS: row({
    section: 'master', key: 'gc_grace_s', default: 3600, check: secondsOrZero,
    doc: [
      'Seconds a chunk no file lists stays on its servers before it is deleted (a primary\'s',
      'update_file_metadata that is only late keeps its chunk). Chunks of a deleted file go at once.',
    ],
    summary: 's an unlisted chunk is kept before it is deleted',
  }),
  maxCopiesPerServer: row({
    section: 'master', key: 'max_copies_per_server', default: 2, check: count,
    doc: ['Copies in flight per server, as source or as target.'],
    summary: 'copies in flight per server (source or target)',
  }),
  instructionTimeoutS: row({
    section: 'master', key: 'instruction_timeout_s', default: 120, check: seconds,
    doc: [
      'Seconds after which a copy or delete instruction not seen done in a report is given up',
      '(a later pass may issue it again).',
    ],
    summary: 's before an instruction not seen done is given up',
  }),
  leaseS: row({
    section: 'master', key: 'lease_s', default: 60, check: seconds,
    doc: [
      'Seconds a chunk lease lasts (GFS 3.1): the primary that holds it picks record_append',
      'offsets; renewed while it appends. A new primary is named only after the old lease ran',
      'out as the master measures it, and a restarted master grants none before the longest',
      'lease it may have granted has run out; over etcd a new leader grants none for lease_s.',
    ],
    summary: 's a chunk lease (the primary of record_append) lasts',
  }),
  clientTimeoutS: row({
    section: 'master', key: 'client_timeout', default: 60, check: seconds,
    doc: ['Seconds after its last client_heartbeat that a client is forgotten.'],
    summary: "s after a client's last heartbeat that it is forgotten",
  }),
  maxMessageMb: row({
    section: 'master', key: 'max_message_mb', default: CHUNK_SERVER_KEYS.maxMessageMb.default, check: messageMib,
    doc: ['Largest accepted frame body, in MiB (also the largest chunk re-replication moves).'],
    summary: "largest frame body the master accepts, MiB",
  }),
  shutdownGraceS: row({
    section: 'master', key: 'shutdown_grace_s', default: 10, check: secondsOrZero,
    doc: ['On SIGINT/SIGTERM, seconds to let in-flight requests finish before closing connections.'],
    summary: "master's SIGINT/SIGTERM wait for in-flight requests, s",
  }),
  logLevel: row<string>({
    section: 'master', key: 'log_level', default: 'info', check: logLevel,
    flags: { master: { name: 'log_level', arg: '<level>', help: LOG_LEVEL_HELP } },
    doc: ['fatal, error, warn, info, debug, trace or silent (--log_level overrides).'],
    summary: "master's log level",
  }),
  httpPort: row({
    section: 'master', key: 'http_port', default: 0, check: httpPort,
    flags: { master: { name: 'http_port', arg: '<port>', help: 'HTTP port of /metrics, /healthz, the web console and /api/ (default [master] http_port, else 0: off)' } },
    doc: [
      'HTTP side of the master: GET /metrics, /healthz, the web console at / and its /api/',
      '(--http_port overrides); 0: off.',
    ],
    summary: "master's HTTP side: `/metrics`, `/healthz`, the console, `/api/`; 0: off",
  }),
  httpHost: row<string | null>({
    section: 'master', key: 'http_host', default: null, check: text,
    doc: ["Host the HTTP side binds to; unset: the master's own host."],
    summary: 'host the HTTP side binds to',
    shown: "the master's `host`",
    example: '"localhost"',
  }),
  consoleChunkMb: row({
    section: 'master', key: 'console_chunk_mb', default: 64, check: numberCheck((n) => n > 0 && n <= 64, 'a number of MiB in (0, 64]'),
    doc: ['Bytes per chunk of a file uploaded through the console, in MiB (at most 64).'],
    summary: 'chunk size of console uploads, MiB (≤ 64)',
  }),
  consoleMaxStreams: row({
    section: 'master', key: 'console_max_streams', default: 32, check: count,
    doc: [
      'Event streams (/api/events) open at once; past it 503 too_many_streams, and the page',
      'polls /api/state instead (docs/security.md, "The HTTP side").',
    ],
    summary: 'open `/api/events` streams at most; past it 503 (see "The HTTP side")',
  }),
  consoleHosts: row<string[]>({
    section: 'master', key: 'console_hosts', default: [], check: nameList,
    doc: [
      'Host names the HTTP side answers to besides IP addresses, localhost, the machine\'s',
      'name and http_host; a request naming another Host gets 403 host_not_allowed, so a',
      'page that rebinds its own name to this address (DNS rebinding) reaches nothing.',
    ],
    summary: 'extra host names the console answers to (DNS rebinding guard; see "The HTTP side")',
    shown: '`[]`: addresses, localhost and this machine\'s name',
    example: '["gfs.example.org"]',
  }),
  consoleKeyFile: row<string | null>({
    section: 'master', key: 'console_key_file', default: null, check: consoleKey,
    doc: [
      'A client key the console signs its requests with under [security] client_auth',
      '(docs/operating.md, "The console under client_auth"); unset: unsigned.',
    ],
    summary: 'a client key (`<client_id>.key`) the console signs its requests with, for clusters under `client_auth` (see "The console under client_auth")',
    shown: 'unset: unsigned',
    example: '"/etc/gfs/clients/console.key"',
  }),
  etcdEndpoints: row<string[]>({
    section: 'master', key: 'etcd_endpoints', default: [], check: etcdEndpointList,
    doc: [
      'etcd client URLs (http://host:port, https:// for TLS); set, several masters run over',
      'etcd: one leads by an etcd lease, the others stand by and answer not_leader, or proxy',
      'to the leader for clients that do not follow it (README, "Several masters").',
      'Empty: one master, its namespace in lmdb only.',
    ],
    summary: 'etcd client URLs; set: several masters, one leader by etcd lease',
    shown: '`[]`: one master, no etcd',
    example: '["http://127.0.0.1:2379"]',
  }),
  etcdPrefix: row({
    section: 'master', key: 'etcd_prefix', default: '/gfs', check: text,
    doc: ['Key prefix of this cluster in etcd (leader key, journal); clusters sharing an etcd differ in it.'],
    summary: 'key prefix of this cluster in etcd',
  }),
  ...ETCD_ACCESS_KEYS,
  etcdLeaseTtlS: row({
    section: 'master', key: 'etcd_lease_ttl_s', default: 5, check: numberCheck((n) => Number.isInteger(n) && n >= 1, 'a whole number of seconds >= 1'),
    doc: [
      'TTL of the leader\'s etcd lease, whole seconds: a leader that stops renewing it (crash,',
      'pause, partition) is replaced after about this long.',
    ],
    summary: "TTL of the leader's etcd lease, s",
  }),
  etcdSafeModeS: row<number | null>({
    section: 'master', key: 'etcd_safe_mode_s', default: null, check: secondsOrZero,
    doc: [
      'Seconds a newly elected leader waits for chunk reports before it deletes or',
      're-replicates anything (safe mode); unset: dead_after_s.',
    ],
    summary: 's a new leader waits for reports before repairs (safe mode)',
    shown: 'dead_after_s',
    example: '20',
  }),
  etcdSnapshotEntries: row({
    section: 'master', key: 'etcd_snapshot_entries', default: 10_000, check: numberCheck((n) => Number.isInteger(n) && n >= 1, 'a whole number >= 1'),
    doc: [
      'Journal entries in etcd after which the leader writes a snapshot of the namespace and',
      'deletes the entries it covers (README, "Several masters"), whichever of this and',
      'etcd_snapshot_mb comes first.',
    ],
    summary: 'journal entries in etcd between snapshots (compaction)',
  }),
  etcdSnapshotMb: row({
    section: 'master', key: 'etcd_snapshot_mb', default: 64, check: numberCheck((n) => Number.isFinite(n) && n > 0, 'a number of MiB > 0'),
    doc: ['MiB of journal entries in etcd after which the leader writes a snapshot (see etcd_snapshot_entries).'],
    summary: 'MiB of journal in etcd between snapshots (compaction)',
  }),
  etcdProxyTimeoutS: row({
    section: 'master', key: 'etcd_proxy_timeout_s', default: 10, check: seconds,
    doc: [
      'A standby proxies to the leader the requests of clients that do not follow not_leader',
      '(the reference\'s; protocol/PROTOCOL.md, section 9): the time it waits for the leader\'s',
      'reply, after which it answers proxy_failed.',
    ],
    summary: 's a standby waits for the leader when it proxies a request',
  }),
  etcdProxyMaxInFlight: row({
    section: 'master', key: 'etcd_proxy_max_in_flight', default: 64, check: numberCheck((n) => Number.isInteger(n) && n >= 0, 'an integer >= 0'),
    doc: [
      'Requests a standby proxies to the leader at once; more are answered proxy_failed at once.',
      '0: a standby proxies nothing and answers every request not_leader.',
    ],
    summary: 'requests a standby proxies to the leader at once (0: none, all answered not_leader)',
  }),
} satisfies Rows;

/** Read by the chunk servers only: whether to have a master at all. */
export const MASTER_ENABLED = row({
  section: 'master', key: 'enabled', default: true, check: bool,
  doc: ['false (or --no_master) runs the chunk server standalone.'],
  summary: '`false` runs the chunk server standalone',
});
