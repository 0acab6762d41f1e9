// [chunk_server]: the chunk server's keys, read by bin/chunkserver.
import {
  addressList, bool, count, httpPort, listenPort, logLevel, messageMib, mib, numberCheck, seconds, secondsOrZero, text,
} from '../checks.js';
import { row, type Rows } from '../schema.js';

export const LOG_LEVEL_HELP = 'fatal, error, warn, info, debug, trace or silent (default info)';

export const CHUNK_SERVER_KEYS = {
  serverId: row<string | null>({
    section: 'chunk_server', key: 'server_id', default: null, check: text,
    flags: { chunkserver: { name: 'server_id', arg: '<id>', help: 'server id; chunks live in <data_dir>/<server_id>/ (default chunk_server_<unix seconds>)' } },
    doc: ['Chunks live in <data_dir>/<server_id>/ (--server_id overrides); unset: chunk_server_<unix seconds>.'],
    summary: 'server id; chunks live in `<data_dir>/<server_id>/`',
    shown: '`chunk_server_<unix seconds>`',
    example: '"chunk1"',
  }),
  dataDir: row({
    section: 'chunk_server', key: 'data_dir', default: 'data/chunks', check: text,
    flags: { chunkserver: { name: 'data_dir', arg: '<dir>', help: 'data directory (default data/chunks)' } },
    doc: ['Data directory (--data_dir overrides).'],
    summary: 'data directory',
  }),
  heartbeatIntervalS: row({
    section: 'chunk_server', key: 'heartbeat_interval', default: 5, check: seconds,
    doc: ['Seconds between heartbeats to the master.'],
    summary: 's between heartbeats (fractions allowed)',
  }),
  chunkReportIntervalS: row({
    section: 'chunk_server', key: 'chunk_report_interval_s', default: 600, check: seconds,
    doc: [
      'Seconds between full chunk reports (chunk_id, length, version, digest of every chunk) to the',
      'master; what changes in between goes with the next heartbeat, sent early after a change.',
    ],
    summary: 's between full chunk reports to the master',
  }),
  spaceMb: row({
    section: 'chunk_server', key: 'space_limit_mb', default: 1024, check: mib,
    flags: { chunkserver: { name: 'space', arg: '<mib>', help: 'space limit in MiB (default [chunk_server] space_limit_mb, else 1024)' } },
    doc: ['Hard limit on the bytes this server holds, in MiB (--space overrides).'],
    summary: 'space limit, MiB',
  }),
  serverInfoFile: row({
    section: 'chunk_server', key: 'server_info_file', default: 'server_info.json', check: text,
    doc: ['Under data_dir: server_id -> {port, data_dir, last_start}, so a restart keeps its port.'],
    summary: 'port record under data_dir',
  }),
  host: row({
    section: 'chunk_server', key: 'host', default: 'localhost', check: text,
    flags: { chunkserver: { name: 'host', arg: '<host>', help: 'listen and advertised host (default localhost)' } },
    doc: ['Listen and advertised host (--host overrides).'],
    summary: 'listen and advertised host',
  }),
  port: row<number | null>({
    section: 'chunk_server', key: 'port', default: null, check: listenPort,
    flags: { chunkserver: { name: 'port', arg: '<port>', help: 'listen port (default: recorded for this server_id in server_info.json, else a free port)' } },
    doc: ['Listen port (--port overrides); unset: the one recorded for this server_id, else a free one.'],
    summary: 'listen port',
    shown: 'the port recorded for this server_id in `<data_dir>/server_info.json`, else a free port (then recorded)',
    example: '6001',
  }),
  maxMessageMb: row({
    section: 'chunk_server', key: 'max_message_mb', default: 80, check: messageMib,
    doc: ['Largest accepted frame body, in MiB: a 64 MiB chunk plus its fields fits in 80.'],
    summary: 'largest accepted frame body, MiB',
  }),
  bufferPoolMb: row({
    section: 'chunk_server', key: 'buffer_pool_mb', default: 256, check: numberCheck((n) => n >= 0, 'a number of MiB >= 0'),
    doc: ['Idle reusable buffer memory kept for large frames and file reads, in MiB.'],
    summary: 'idle reusable buffer memory kept, MiB',
  }),
  maxConnections: row({
    section: 'chunk_server', key: 'max_connections', default: 1024, check: count,
    doc: ["Open client connections beyond this get {status:'error', message:'too_many_connections'}."],
    summary: 'open connections; more get `too_many_connections`',
  }),
  idleTimeoutS: row({
    section: 'chunk_server', key: 'idle_timeout_s', default: 300, check: seconds,
    doc: ['Seconds a connection may sit with no request under way before it is closed.'],
    summary: 'an idle connection is closed after this, s',
  }),
  frameTimeoutS: row({
    section: 'chunk_server', key: 'frame_timeout_s', default: 120, check: seconds,
    doc: [
      'Seconds a frame may take from its first byte to its last (64 MiB in 120 s is 0.5 MiB/s);',
      "a slower frame gets 'bad_request: frame timeout: ...' and the connection is closed.",
    ],
    summary: 'a frame must arrive whole within this, s',
  }),
  writeTimeoutS: row({
    section: 'chunk_server', key: 'write_timeout_s', default: 60, check: seconds,
    doc: [
      'Seconds a client may take to read a reply (each write to the socket, each wait for it to',
      "drain); a client that does not read is disconnected and its reply's files are released.",
    ],
    summary: 'a reply the client does not read within this (per write or drain wait) closes the connection, s',
  }),
  frameMemoryMb: row({
    section: 'chunk_server', key: 'frame_memory_mb', default: 512, check: mib,
    doc: [
      'Memory for incoming frame bodies held at once over all connections, in MiB; a frame that',
      "would pass it gets 'out_of_memory' and its connection is closed.",
    ],
    summary: 'memory for frame bodies being received, all connections together; past it `out_of_memory`, MiB',
  }),
  peers: row<string[]>({
    section: 'chunk_server', key: 'peers', default: [], check: addressList,
    doc: [
      'Standalone servers ([master] enabled = false) forward replicate_chunk only to these',
      '"host:port" addresses; with a master, only to the chunk servers the master lists.',
    ],
    summary: 'standalone only: the `host:port` servers `replicate_chunk` may forward to',
  }),
  otherMasters: row<string[]>({
    section: 'chunk_server', key: 'other_masters', default: [], check: addressList,
    doc: [
      'Further "host:port" masters of a cluster of several masters over etcd: tried in turn',
      'when the master does not answer. A standby that answers not_leader names the leader,',
      'and the server follows it whatever this lists.',
    ],
    summary: 'other masters (several masters over etcd), tried when the master does not answer',
  }),
  streamThresholdMb: row({
    section: 'chunk_server', key: 'stream_threshold_mb', default: 1, check: mib,
    doc: [
      'Frames of at least this many MiB write their large bin values (chunk data) to a temp file',
      'in the chunk directory as they arrive, instead of holding them in memory.',
    ],
    summary: 'frames of at least this size write their large bin values to a temp file as they arrive, MiB',
  }),
  fsync: row({
    section: 'chunk_server', key: 'fsync', default: true, check: bool,
    doc: [
      'true: a store is acknowledged only once its file and directory entry are on disk (fsync).',
      'false is faster for small chunks, but a power loss or kernel crash can then lose chunks',
      'that were already acknowledged, or leave them empty (a killed process loses nothing).',
    ],
    summary: '`false` skips every fsync (opt-in, see below)',
  }),
  shutdownGraceS: row({
    section: 'chunk_server', key: 'shutdown_grace_s', default: 10, check: secondsOrZero,
    doc: ['On SIGINT/SIGTERM, seconds to let in-flight requests finish before closing connections.'],
    summary: 'SIGINT/SIGTERM wait for in-flight requests, s',
  }),
  logLevel: row<string>({
    section: 'chunk_server', key: 'log_level', default: 'info', check: logLevel,
    flags: { chunkserver: { name: 'log_level', arg: '<level>', help: LOG_LEVEL_HELP } },
    doc: ['fatal, error, warn, info, debug, trace or silent (--log_level overrides).'],
    summary: 'log level',
  }),
  transactionTtlS: row({
    section: 'chunk_server', key: 'transaction_ttl_s', default: 300, check: seconds,
    doc: [
      'Seconds a prepared transaction (prepare_chunk / prepare_append) may wait for its commit or',
      'rollback; after that a background sweep rolls it back and frees its space.',
    ],
    summary: 'a prepared transaction not committed within this is rolled back, s',
  }),
  maxPrepared: row({
    section: 'chunk_server', key: 'max_prepared', default: 1000, check: count,
    doc: [
      'Prepared transactions pending at once at most; a prepare beyond that gets',
      "{status:'error', message:'too_many_prepared', max_prepared}. Each also counts against the",
      'space limit (its data file and sidecar, block-rounded).',
    ],
    summary: 'prepared transactions pending at once; a prepare beyond gets `too_many_prepared`',
  }),
  walMaxKb: row({
    section: 'chunk_server', key: 'wal_max_kb', default: 128,
    check: numberCheck((n) => Number.isInteger(n) && (n === 0 || (n >= 16 && n <= 128)), 'an integer: 0 (no log) or 16 to 128 KiB'),
    doc: [
      'Write-ahead log of appends up to a quarter of this size (KiB, 16 to 128; 0: no log): such an',
      'append is acknowledged after one fdatasync of the log, shared by concurrent appends; a',
      'checkpoint (chunk files fdatasynced, records committed) empties a full log file. Two files',
      'of this size at most, under .meta/, inside the space limit\'s disk margin.',
    ],
    summary: 'one write-ahead log file, KiB (16 to 128; 0: no log); appends up to a quarter of it go through the log',
  }),
  walStoreMaxKb: row({
    section: 'chunk_server', key: 'wal_store_max_kb', default: 64,
    check: numberCheck((n) => Number.isInteger(n) && n >= 0 && n <= 256, 'an integer: 0 (no logged stores) to 256 KiB'),
    doc: [
      'Stores up to this size (KiB, 0 to 256; 0: none) go through the write-ahead log: acknowledged',
      'after one fdatasync of the log, shared by concurrent stores and appends; the chunk file and its',
      'record are flushed at the next checkpoint, or rewritten from the log after a crash. Their',
      'records may fill each log file 512 KiB past wal_max_kb, inside the disk margin. Ignored when',
      'wal_max_kb is 0. The default was measured (docs/performance.md).',
    ],
    summary: 'stores up to this size go through the write-ahead log, KiB (0: none)',
  }),
  transactionLog: row({
    section: 'chunk_server', key: 'transaction_log', default: 'transactions.log', check: text,
    doc: [
      'Transaction log (START / PREPARE / COMMIT / ROLLBACK / EXPIRE lines, JSON); a relative path',
      'is taken under data_dir.',
    ],
    summary: 'transaction log file (relative: under data_dir)',
  }),
  connectTimeoutS: row({
    section: 'chunk_server', key: 'connect_timeout_s', default: 2, check: seconds,
    doc: ['Seconds allowed for the TCP handshake with the master or a peer.'],
    summary: 'TCP connect to the master or a peer, s',
  }),
  masterTimeoutS: row({
    section: 'chunk_server', key: 'master_timeout_s', default: 5, check: seconds,
    doc: ['Seconds for one call to the master (register, heartbeat, placement, metadata) or a check_space to a peer.'],
    summary: 'one call to the master, or a `check_space` to a peer, s',
  }),
  peerTimeoutS: row({
    section: 'chunk_server', key: 'peer_timeout_s', default: 30, check: seconds,
    doc: ['Seconds for one call carrying chunk data to a peer (replica store, append, one hop of a chain).'],
    summary: 'one call carrying chunk data to a peer, s',
  }),
  peerConcurrency: row({
    section: 'chunk_server', key: 'peer_concurrency', default: 4, check: count,
    doc: ['Calls in flight to one peer at once; more wait their turn (within their timeout).'],
    summary: 'calls in flight to one peer at once',
  }),
  scrubIntervalS: row({
    section: 'chunk_server', key: 'scrub_interval_s', default: 86_400, check: seconds,
    doc: [
      'Seconds between the starts of two scrub passes; each pass reads every chunk and checks it',
      'against its checksums, quarantining (and reporting to the master) any that does not match.',
    ],
    summary: 's between the starts of two scrub passes',
  }),
  scrubRateMbS: row({
    section: 'chunk_server', key: 'scrub_rate_mb_s', default: 50, check: numberCheck((n) => n > 0, 'a positive number of MiB per second'),
    doc: ['Most the scrubber reads, in MiB per second, so that client requests keep the disk.'],
    summary: 'most the scrubber reads, MiB/s',
  }),
  metricsPort: row({
    section: 'chunk_server', key: 'metrics_port', default: 0, check: httpPort,
    flags: { chunkserver: { name: 'metrics_port', arg: '<port>', help: 'HTTP port of /metrics and /healthz (default [chunk_server] metrics_port, else 0: off)' } },
    doc: ["HTTP port of GET /metrics and GET /healthz, on this server's host (--metrics_port overrides); 0: off."],
    summary: 'HTTP port of `/metrics`, `/healthz`; 0: off',
  }),
} satisfies Rows;
