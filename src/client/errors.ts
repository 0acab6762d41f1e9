// Every failure the client library reports. The code is stable (scripts and the web console
// branch on it); the message is one line meant for a person.

export type GfsErrorCode =
  /** No connection to the master (refused, no route, the connect timed out). */
  | 'master_unreachable'
  /** The master accepted the connection and closed it without a reply. */
  | 'master_closed'
  /** The master accepted the connection and did not answer within the call's timeout. */
  | 'master_timeout'
  /** What answered at the master's address does not speak this protocol (an HTTP server, say). */
  | 'not_gfs_master'
  /** The master answered with an error the client did not expect. */
  | 'master_error'
  /** No file under that remote path. */
  | 'file_not_found'
  /** put without `overwrite`, or mv, onto a path that already holds a file. */
  | 'file_exists'
  /** The local file to read does not exist or cannot be read; or the local target cannot be written. */
  | 'local_io'
  /** The master knows no live chunk server. */
  | 'no_servers'
  /** Every server refused a chunk with insufficient_space. */
  | 'cluster_full'
  /** A chunk could not be stored on, appended on, or read from any server. */
  | 'chunk_unavailable'
  /** Every holder of a chunk answered with bytes that failed verification (or corrupt_chunk). */
  | 'chunk_corrupt'
  /** A put stored some chunk with fewer copies than its minCopies (--min_copies) asked for; nothing was kept. */
  | 'under_replicated'
  /** decommission or forget of an address the master does not know. */
  | 'unknown_server'
  /** forget of a server that is live (it still sends heartbeats). */
  | 'server_live'
  /** decommission the master refused: the other servers could never hold the factor (or the space). */
  | 'decommission_refused'
  /** The master does not have this command (an older master). */
  | 'unsupported'
  /** get with a decryption key of a file that is not in the encrypted format. */
  | 'not_encrypted'
  /** The decryption key (or passphrase) is not the one the file was encrypted with. */
  | 'wrong_key'
  /** An encrypted file failed authentication: changed, cut short or damaged. Nothing of it is written. */
  | 'decrypt_failed'
  /** An argument the library cannot act on (bad address, bad chunk size). */
  | 'bad_input';

export class GfsError extends Error {
  constructor(
    readonly code: GfsErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'GfsError';
  }
}
