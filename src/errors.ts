// Every error a client can see, one class per protocol error code, and how each becomes a
// reply. Messages are part of the protocol (protocol/PROTOCOL.md lists them); change one
// only together with the spec. Code matches an error by its class (or `code`), never by
// its message.

export type ErrorReply = { status: 'error'; message: string; [field: string]: unknown };

export const MSG = {
  chunkNotFound: 'chunk_not_found',
  invalidChunkId: 'invalid_chunk_id',
  invalidTransactionId: 'invalid_transaction_id',
  insufficientSpace: 'insufficient_space',
  internal: 'internal_error',
  tooManyConnections: 'too_many_connections',
  // Verbatim from the reference's commit_chunk / commit_append.
  noPreparedData: 'No prepared data found for commit',
  alreadyCommitted: 'already_committed',
  conflict: 'conflict',
  badOffset: 'bad_offset',
  fileNotFound: 'file_not_found',
  corruptChunk: 'corrupt_chunk',
  tooManyPrepared: 'too_many_prepared',
  // Master: decommission_server of an address it never heard from.
  unknownServer: 'unknown_server',
  // Master: forget_server of a server that still beats.
  serverLive: 'server_live',
  // Master: rename_file onto a taken name.
  fileExists: 'file_exists',
  // Issue 14 (hostile clients): bounds a client can run into.
  outOfMemory: 'out_of_memory',
  tooManyClients: 'too_many_clients',
  tooManyServers: 'too_many_servers',
  // Authentication (protocol/PROTOCOL.md, "Authentication"): no proof where one is needed,
  // a client's proof where only a member's will do, and `auth_failed: <reason>`.
  authRequired: 'auth_required',
  memberRequired: 'member_required',
  // A large value from a sender that did not name itself first (auth_id), past the small
  // budget such values share (protocol/PROTOCOL.md, "Where auth_id goes").
  unverifiedTooLarge: 'unverified_too_large',
  // TLS (protocol/PROTOCOL.md, "TLS"): plain TCP to a port under tls = "all", and
  // `tls_refused: <reason>` for a certificate the cluster CA does not vouch for.
  tlsRequired: 'tls_required',
  // Leases and record_append (protocol/PROTOCOL.md, "Leases and record_append").
  notPrimary: 'not_primary',
  noLease: 'no_lease',
  chunkFull: 'chunk_full',
  recordTooLarge: 'record_too_large',
  replicaFailed: 'replica_failed',
  notRecorded: 'not_recorded',
  // Several masters over etcd (protocol/PROTOCOL.md, "Several masters"): this master is not
  // the leader (the reply names the one it knows in `leader`), and a leader that could not
  // make a change durable in etcd.
  notLeader: 'not_leader',
  etcdUnavailable: 'etcd_unavailable',
  // A standby could not relay a request to the leader for a sender that does not follow
  // not_leader: `proxy_failed: <reason>`, with `leader`.
  proxyFailed: 'proxy_failed',
} as const;

/**
 * An error the client caused or must be told about: it becomes
 * `{status:'error', message, ...extra}`, the message being `code` or `code: detail`.
 */
export class RequestError extends Error {
  constructor(
    readonly code: string,
    detail?: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail === undefined ? code : `${code}: ${detail}`);
    this.name = new.target.name;
  }

  toReply(): ErrorReply {
    return { status: 'error', message: this.message, ...this.extra };
  }
}

export class BadRequestError extends RequestError {
  static readonly code = 'bad_request';
  constructor(why: string) {
    super(BadRequestError.code, why);
  }
}

export class UnknownCommandError extends RequestError {
  static readonly code = 'unknown_command';
  constructor(name: string) {
    super(UnknownCommandError.code, name);
  }
}

export class InvalidChunkIdError extends RequestError {
  constructor() {
    super(MSG.invalidChunkId);
  }
}

export class InvalidTransactionIdError extends RequestError {
  constructor() {
    super(MSG.invalidTransactionId);
  }
}

/** Raised by storage when a write would pass the space limit; carries what is still free. */
export class InsufficientSpaceError extends RequestError {
  constructor(availableSpace: number) {
    super(MSG.insufficientSpace, undefined, { available_space: availableSpace });
  }
}

export class ChunkNotFoundError extends RequestError {
  constructor() {
    super(MSG.chunkNotFound);
  }
}

/** The chunk's bytes do not match the checksums recorded when it was written; it has been quarantined. */
export class CorruptChunkError extends RequestError {
  constructor() {
    super(MSG.corruptChunk);
  }
}

/**
 * prepare_append at an offset past the chunk's end, or a replica append_chunk at another
 * offset than the copy's end; carries the chunk's current size.
 */
export class BadOffsetError extends RequestError {
  constructor(size: number) {
    super(MSG.badOffset, undefined, { size });
  }
}

export class NoPreparedDataError extends RequestError {
  constructor() {
    super(MSG.noPreparedData);
  }
}

export class AlreadyCommittedError extends RequestError {
  constructor() {
    super(MSG.alreadyCommitted);
  }
}

/**
 * An append that would land below the chunk's committed end (prepare_append), or whose chunk
 * changed since it was prepared (commit_append); carries the chunk's committed size, where
 * the sender may prepare again.
 */
export class ConflictError extends RequestError {
  constructor(size?: number) {
    super(MSG.conflict, undefined, size === undefined ? {} : { size });
  }
}

/** A prepare beyond `[chunk_server] max_prepared` pending transactions. */
export class TooManyPreparedError extends RequestError {
  constructor(max: number) {
    super(MSG.tooManyPrepared, undefined, { max_prepared: max });
  }
}

export class FileNotFoundError extends RequestError {
  constructor() {
    super(MSG.fileNotFound);
  }
}

export class UnknownServerError extends RequestError {
  constructor() {
    super(MSG.unknownServer);
  }
}

export class ServerLiveError extends RequestError {
  constructor() {
    super(MSG.serverLive);
  }
}

/** A new name that breaks the path rule (src/paths.ts); `<why>` is one of its fixed details. */
export class InvalidPathError extends RequestError {
  static readonly code = 'invalid_path';
  constructor(why: string) {
    super(InvalidPathError.code, why);
  }
}

/** rename_file onto a name that is taken. */
export class FileExistsError extends RequestError {
  constructor() {
    super(MSG.fileExists);
  }
}

/** decommission_server without `force` when the other servers cannot keep the factor. */
export class DecommissionRefusedError extends RequestError {
  static readonly code = 'decommission_refused';
  constructor(why: string) {
    super(DecommissionRefusedError.code, why);
  }
}

export class AuthRequiredError extends RequestError {
  constructor() {
    super(MSG.authRequired);
  }
}

export class MemberRequiredError extends RequestError {
  constructor() {
    super(MSG.memberRequired);
  }
}

export class UnverifiedTooLargeError extends RequestError {
  constructor() {
    super(MSG.unverifiedTooLarge);
  }
}

export class TlsRequiredError extends RequestError {
  constructor() {
    super(MSG.tlsRequired);
  }
}

/** A client certificate the server will not take: expired, from another CA, unreadable. */
export class TlsRefusedError extends RequestError {
  static readonly code = 'tls_refused';
  constructor(reason: string) {
    super(TlsRefusedError.code, reason);
  }
}

/** Reasons of `auth_failed: <reason>`. */
export const AUTH_FAILURES = ['malformed', 'unknown_key', 'bad_signature', 'expired', 'replayed', 'sender_mismatch'] as const;
export type AuthFailure = (typeof AUTH_FAILURES)[number];

export class AuthFailedError extends RequestError {
  static readonly code = 'auth_failed';
  constructor(reason: AuthFailure) {
    super(AuthFailedError.code, reason);
  }
}

/** A later link of a replicate_chunk chain failed; this server kept its copy. */
export class ReplicationFailedError extends RequestError {
  static readonly code = 'replication_failed';
  constructor(address: string) {
    super(ReplicationFailedError.code, address, { stored_locally: true });
  }
}

/** replicate_chunk names a next link that is not a member of the cluster (or is this server); this server kept its copy. */
export class ForwardRefusedError extends RequestError {
  static readonly code = 'forward_refused';
  constructor(address: string) {
    super(ForwardRefusedError.code, address, { stored_locally: true });
  }
}

/**
 * record_append to a server that holds no lease on the chunk, or get_lease while another
 * holds one; carries the primary the master named (null when it named none) and, from the
 * master, when that lease ends.
 */
export class NotPrimaryError extends RequestError {
  constructor(primary: string | null, leaseEnd: number | null = null) {
    super(MSG.notPrimary, undefined, { primary, lease_end: leaseEnd });
  }
}

/** get_lease: no current holder on a live server, or a restarted master still waiting out the leases it may have granted. */
export class NoLeaseError extends RequestError {
  constructor(why: string) {
    super(MSG.noLease, why);
  }
}

/** record_append: the record does not fit in the chunk's room; the chunk was padded to its end on every holder. */
export class ChunkFullError extends RequestError {
  constructor(size: number) {
    super(MSG.chunkFull, undefined, { size });
  }
}

/** record_append of more than a quarter of the chunk size (GFS 3.3). */
export class RecordTooLargeError extends RequestError {
  constructor(max: number) {
    super(MSG.recordTooLarge, undefined, { max_record_bytes: max });
  }
}

/** store_chunk with forward_to: every copy is stored but the master could not be told; the file stays empty. */
export class NotRecordedError extends RequestError {
  constructor() {
    super(MSG.notRecorded);
  }
}

/** record_append: the primary wrote the record, a current holder did not; it is reported stale and the client retries. */
export class ReplicaFailedError extends RequestError {
  constructor(addresses: readonly string[]) {
    super(MSG.replicaFailed, addresses.join(', '));
  }
}

// Disk errors a client can trigger by filling or breaking the disk; named in the reply so an
// operator can tell a full disk from a failing one.
const DISK_ERRNOS = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EACCES', 'EPERM', 'EROFS', 'EMFILE', 'ENFILE']);

/** A standby master, or a leader deposed while it worked; `leader` is the leader it knows ("host:port"), or null. */
export class NotLeaderError extends RequestError {
  constructor(leader: string | null) {
    super(MSG.notLeader, undefined, { leader });
  }
}

/** A standby could not get the leader's reply to a request it proxies (timeout, leader unreachable, too many in flight); the request may or may not have been applied by the leader. */
export class ProxyFailedError extends RequestError {
  constructor(reason: string, leader: string) {
    super(MSG.proxyFailed, reason, { leader });
  }
}

/** The leader could not reach etcd (or a majority of it) to make a change durable; the change was not applied. */
export class EtcdUnavailableError extends RequestError {
  constructor() {
    super(MSG.etcdUnavailable);
  }
}

/** Maps anything a handler threw to the reply the client gets. */
export function errorToReply(err: unknown): { reply: ErrorReply; expected: boolean } {
  if (err instanceof RequestError) return { reply: err.toReply(), expected: true };
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (typeof code === 'string' && DISK_ERRNOS.has(code)) {
    return { reply: { status: 'error', message: `io_error: ${code}` }, expected: false };
  }
  return { reply: { status: 'error', message: MSG.internal }, expected: false };
}
