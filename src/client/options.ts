// What a GfsClient is made with and what its transfers take, and the checks of the
// connection settings: apart from the client so that index.ts holds the client alone.
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { Logger } from 'pino';
import { splitAddress } from '../net/address.js';
import type { EncryptionKey } from './encryption.js';
import { GfsError } from './errors.js';

export type ProgressFn = (doneBytes: number, totalBytes: number | undefined) => void;

export interface GfsClientOptions {
  /** The master, "host:port". */
  readonly master: string;
  /** Bytes per new chunk (default 64,000,000, the reference's upload_chunk_size). */
  readonly chunkSize?: number;
  /** Chunks in flight at once (default 4). */
  readonly concurrency?: number;
  /** Time for the TCP handshake, in ms (default 5 s, never more than `timeoutMs`). */
  readonly connectTimeoutMs?: number;
  /**
   * How long one call may wait, in ms (default 30 s). A call to the master must be answered
   * within it. A call to a chunk server may go this long without a byte moving: moving a
   * chunk takes as long as the link needs, and a primary answers a store only once its
   * replicas have the chunk.
   */
  readonly timeoutMs?: number;
  /** A client key file (`<client_id>.key`): every request is signed with it, for clusters under `client_auth`. */
  readonly keyFile?: string;
  /**
   * Bytes of chunk data kept between gets (default 0: no cache). Chunks are kept by (chunk
   * id, version), least recently used dropped first, and served only while the master
   * still vouches for the proof that verified them.
   */
  readonly cacheBytes?: number;
  /**
   * TLS to every server (clusters with `[security] tls`): the cluster CA's PEM file, and a
   * client certificate and key when the cluster asks for one. Absent: plain TCP.
   */
  readonly tls?: ClientTlsFiles;
  readonly log?: Logger;
}

export interface ClientTlsFiles {
  readonly caFile: string;
  readonly certFile?: string;
  readonly keyFile?: string;
}

export interface TransferOptions {
  readonly onProgress?: ProgressFn;
}

export interface EncryptOption {
  /**
   * Seal the bytes on this machine before they leave it (docs/operating.md, "Encrypted
   * files"): servers and master hold only the sealed form. Progress then counts sealed bytes.
   */
  readonly encrypt?: EncryptionKey;
}

export interface DecryptOption {
  /** Open a file written with `encrypt`: not_encrypted, wrong_key or decrypt_failed, with nothing written, when it cannot be. */
  readonly decrypt?: EncryptionKey;
}

export interface PutOptions extends TransferOptions, EncryptOption {
  /** Replace a file already at the remote path (default: fail with file_exists). */
  readonly overwrite?: boolean;
  /** Fewest copies each chunk must get, else the put fails with under_replicated and keeps nothing (default 1). */
  readonly minCopies?: number;
}

/** One "host:port", or several masters over etcd as "a,b,c". */
export function checkAddress(address: string): void {
  for (const one of address.split(',')) if (splitAddress(one.trim()) === null) throw new GfsError('bad_input', `not a HOST:PORT address: ${one}`);
}

/** The TLS options of every call: the CA's file and a client certificate, read once. */
export function clientTls(files: ClientTlsFiles): ConnectionOptions {
  if ((files.certFile === undefined) !== (files.keyFile === undefined)) throw new GfsError('bad_input', 'a TLS client certificate needs both its certificate and its key file');
  const read = (file: string, what: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new GfsError('bad_input', `TLS ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  return {
    ca: read(files.caFile, 'CA file'),
    cert: files.certFile === undefined ? undefined : read(files.certFile, 'certificate'),
    key: files.keyFile === undefined ? undefined : read(files.keyFile, 'key'),
  };
}
