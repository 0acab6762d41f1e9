// Every error a client can see, and how each becomes a reply. Messages are part of the
// protocol (protocol/PROTOCOL.md lists them); change one only together with the spec.

export type ErrorReply = { status: 'error'; message: string; [field: string]: unknown };

/** An error the client caused or must be told about: it becomes `{status:'error', message, ...extra}`. */
export class RequestError extends Error {
  constructor(
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'RequestError';
  }

  toReply(): ErrorReply {
    return { status: 'error', message: this.message, ...this.extra };
  }
}

export const badRequest = (why: string): RequestError => new RequestError(`bad_request: ${why}`);
export const unknownCommand = (name: string): RequestError => new RequestError(`unknown_command: ${name}`);

/** A later link of a replicate_chunk chain failed; this server kept its copy. */
export const replicationFailed = (address: string): RequestError =>
  new RequestError(`replication_failed: ${address}`, { stored_locally: true });

/** replicate_chunk names a next link that is not a member of the cluster (or is this server); this server kept its copy. */
export const forwardRefused = (address: string): RequestError => new RequestError(`forward_refused: ${address}`, { stored_locally: true });

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
  // Issue 14 (hostile clients): bounds a client can run into.
  outOfMemory: 'out_of_memory',
  tooManyClients: 'too_many_clients',
  tooManyServers: 'too_many_servers',
  // Authentication (protocol/PROTOCOL.md, "Authentication"): no proof where one is needed,
  // a client's proof where only a member's will do, and `auth_failed: <reason>`.
  authRequired: 'auth_required',
  memberRequired: 'member_required',
} as const;

/** Reasons of `auth_failed: <reason>`. */
export const AUTH_FAILURES = ['malformed', 'unknown_key', 'bad_signature', 'expired', 'replayed', 'sender_mismatch'] as const;
export type AuthFailure = (typeof AUTH_FAILURES)[number];
export const authFailed = (reason: AuthFailure): RequestError => new RequestError(`auth_failed: ${reason}`);

/** Raised by storage when a write would pass the space limit; carries what is still free. */
export class InsufficientSpaceError extends RequestError {
  constructor(availableSpace: number) {
    super(MSG.insufficientSpace, { available_space: availableSpace });
    this.name = 'InsufficientSpaceError';
  }
}

export class ChunkNotFoundError extends RequestError {
  constructor() {
    super(MSG.chunkNotFound);
    this.name = 'ChunkNotFoundError';
  }
}

/** The chunk's bytes do not match the checksums recorded when it was written; it has been quarantined. */
export class CorruptChunkError extends RequestError {
  constructor() {
    super(MSG.corruptChunk);
    this.name = 'CorruptChunkError';
  }
}

/** prepare_append at an offset past the chunk's end; carries the chunk's current size. */
export class BadOffsetError extends RequestError {
  constructor(size: number) {
    super(MSG.badOffset, { size });
    this.name = 'BadOffsetError';
  }
}

export const noPreparedData = (): RequestError => new RequestError(MSG.noPreparedData);
export const alreadyCommitted = (): RequestError => new RequestError(MSG.alreadyCommitted);
export const conflict = (): RequestError => new RequestError(MSG.conflict);
/** A prepare beyond `[chunk_server] max_prepared` pending transactions. */
export const tooManyPrepared = (max: number): RequestError => new RequestError(MSG.tooManyPrepared, { max_prepared: max });

// Disk errors a client can trigger by filling or breaking the disk; named in the reply so an
// operator can tell a full disk from a failing one.
const DISK_ERRNOS = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EACCES', 'EPERM', 'EROFS', 'EMFILE', 'ENFILE']);

/** Maps anything a handler threw to the reply the client gets. */
export function errorToReply(err: unknown): { reply: ErrorReply; expected: boolean } {
  if (err instanceof RequestError) return { reply: err.toReply(), expected: true };
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (typeof code === 'string' && DISK_ERRNOS.has(code)) {
    return { reply: { status: 'error', message: `io_error: ${code}` }, expected: false };
  }
  return { reply: { status: 'error', message: MSG.internal }, expected: false };
}

/** Transport failures on outbound calls (master, peers); never sent to a client as-is. */
export class PeerError extends Error {
  constructor(
    readonly address: string,
    message: string,
  ) {
    super(`${address}: ${message}`);
    this.name = 'PeerError';
  }
}
