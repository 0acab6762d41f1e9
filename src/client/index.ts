// The client library: put, get, append, list, stat, remove, servers, decommission over a
// master and its chunk servers. It knows nothing of terminals or web pages: progress is a
// callback, failures are GfsErrors with a stable code.
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from 'pino';
import { BufferPool } from '../wire/buffer-pool.js';
import type { SpillProvider } from '../wire/payload.js';
import { splitAddress } from '../net/address.js';
import { call, type CallOptions, type Reply } from '../net/rpc.js';
import { append } from './append.js';
import { GfsError } from './errors.js';
import { getToPath, getToStream } from './get.js';
import { MasterApi } from './master-api.js';
import { put } from './put.js';
import { loadClientCredential } from '../auth/client.js';
import { signedFrame, type Credential } from '../auth/signer.js';
import { BufferReader, FileReader, Scratch, StreamReader, type PieceReader } from './source.js';
import { inspectFile, listFiles, listServers, type FileEntry, type FileStat, type ServerEntry } from './views.js';

export { GfsError, type GfsErrorCode } from './errors.js';
export type { FileEntry, FileStat, ServerEntry, ChunkStat } from './views.js';

/** The reference's [client] upload_chunk_size default. */
export const DEFAULT_CHUNK_SIZE = 64_000_000;
export const DEFAULT_CONCURRENCY = 4;
/** How long one call may wait, in ms (see GfsClientOptions.timeoutMs). */
export const DEFAULT_TIMEOUT_MS = 30_000;
// The TCP handshake's limit, in ms, unless the call's timeout is shorter.
const CONNECT_TIMEOUT_MS = 5_000;
// Chunks are 64 MB at most; a frame beyond 1 GiB is not one the servers would accept either.
const MAX_CHUNK_SIZE = 512 * 1024 * 1024;
// I/O blocks kept for reuse: two per chunk in flight is plenty.
const POOL_BYTES = 16 * 1024 * 1024;

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

export interface PutOptions extends TransferOptions {
  /** Replace a file already at the remote path (default: fail with file_exists). */
  readonly overwrite?: boolean;
}

export class GfsClient {
  private readonly pool = new BufferPool(POOL_BYTES);
  private readonly callOpts: CallOptions;
  private readonly masterApi: MasterApi;
  private readonly chunkSize: number;
  private readonly concurrency: number;
  private readonly log: Logger | undefined;

  constructor(opts: GfsClientOptions) {
    checkAddress(opts.master);
    this.chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
    if (!Number.isInteger(this.chunkSize) || this.chunkSize < 1 || this.chunkSize > MAX_CHUNK_SIZE) {
      throw new GfsError('bad_input', `chunk size must be an integer from 1 to ${MAX_CHUNK_SIZE} bytes`);
    }
    this.concurrency = Math.max(1, Math.floor(opts.concurrency ?? DEFAULT_CONCURRENCY));
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new GfsError('bad_input', `timeout must be a positive number of ms, got ${timeoutMs}`);
    let credential: Credential | undefined;
    try {
      credential = opts.keyFile === undefined ? undefined : loadClientCredential(opts.keyFile);
    } catch (err) {
      throw new GfsError('bad_input', `key file ${opts.keyFile}: ${(err as Error).message}`);
    }
    const encode = credential && ((body: Reply) => signedFrame(body, credential));
    const connectTimeoutMs = Math.min(opts.connectTimeoutMs ?? CONNECT_TIMEOUT_MS, timeoutMs);
    this.callOpts = { connectTimeoutMs, idleTimeoutMs: timeoutMs, encode, tls: opts.tls && clientTls(opts.tls) };
    this.masterApi = new MasterApi(opts.master, { ...this.callOpts, deadlineMs: timeoutMs }, this.pool);
    this.log = opts.log;
  }

  private readonly rpc = (address: string, body: Reply): Promise<Reply> => call(address, body, this.callOpts, this.pool);
  private readonly rpcInto = (address: string, body: Reply, sink: SpillProvider): Promise<Reply> => call(address, body, { ...this.callOpts, sink }, this.pool);

  private async reader(source: string | Buffer | Readable, scratch: Scratch): Promise<PieceReader> {
    if (Buffer.isBuffer(source)) return new BufferReader(source);
    if (typeof source !== 'string') return new StreamReader(source, this.pool, scratch);
    try {
      return await FileReader.open(source, this.pool);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'not a regular file' : e.code === 'EACCES' ? 'permission denied' : e.message;
      throw new GfsError('local_io', `cannot read ${source}: ${why}`);
    }
  }

  private async withReader<R>(source: string | Buffer | Readable, fn: (reader: PieceReader) => Promise<R>): Promise<R> {
    const scratch = new Scratch();
    try {
      const reader = await this.reader(source, scratch);
      try {
        return await fn(reader);
      } finally {
        await reader.close();
      }
    } finally {
      await scratch.dispose();
    }
  }

  private checkRemote(remote: string): void {
    if (typeof remote !== 'string' || remote.length === 0) throw new GfsError('bad_input', 'the remote path is empty');
  }

  /** Uploads a local file (path), a Buffer or a stream to `remote`. Returns the bytes stored. */
  async put(source: string | Buffer | Readable, remote: string, opts: PutOptions = {}): Promise<{ size: number; chunks: number }> {
    this.checkRemote(remote);
    const deps = { master: this.masterApi, call: this.rpc, chunkSize: this.chunkSize, concurrency: this.concurrency, log: this.log };
    return this.withReader(source, (reader) => put(deps, reader, remote, opts.overwrite ?? false, opts.onProgress));
  }

  /** Downloads `remote` into a local path (written whole or not at all) or a stream. Returns the bytes. */
  async get(remote: string, target: string | Writable, opts: TransferOptions = {}): Promise<number> {
    this.checkRemote(remote);
    const deps = { master: this.masterApi, call: this.rpcInto, concurrency: this.concurrency };
    return typeof target === 'string' ? getToPath(deps, remote, target, opts.onProgress) : getToStream(deps, remote, target, opts.onProgress);
  }

  /** Appends to `remote`, creating it when missing. Returns the bytes appended. */
  async append(remote: string, source: string | Buffer | Readable, opts: TransferOptions = {}): Promise<number> {
    this.checkRemote(remote);
    if (!(await this.masterApi.metadata(remote))) return (await this.put(source, remote, opts)).size;
    const deps = { master: this.masterApi, call: this.rpc, chunkSize: this.chunkSize, log: this.log };
    return this.withReader(source, (reader) => append(deps, reader, remote, opts.onProgress));
  }

  /** Files whose path starts with `prefix`, sorted, with their sizes. */
  list(prefix = ''): Promise<FileEntry[]> {
    return listFiles(this.masterApi, prefix);
  }

  /** Size, chunks and each chunk's holders (live or not); file_not_found when missing. */
  async stat(remote: string): Promise<FileStat> {
    this.checkRemote(remote);
    return inspectFile(this.masterApi, remote);
  }

  /** The master's delete_file. */
  async remove(remote: string): Promise<void> {
    this.checkRemote(remote);
    return this.masterApi.deleteFile(remote);
  }

  servers(): Promise<ServerEntry[]> {
    return listServers(this.masterApi);
  }

  /** The master's decommission_server: it moves the server's chunks elsewhere. */
  async decommission(address: string): Promise<void> {
    checkAddress(address);
    return this.masterApi.decommission(address);
  }

  /** Nothing stays open between calls (one connection per request); kept for callers that pool clients. */
  close(): void {}
}

function checkAddress(address: string): void {
  if (splitAddress(address) === null) throw new GfsError('bad_input', `not a HOST:PORT address: ${address}`);
}

/** The TLS options of every call: the CA's file and a client certificate, read once. */
function clientTls(files: ClientTlsFiles): ConnectionOptions {
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
