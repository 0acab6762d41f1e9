// The client library: put, get, append, list, stat, remove, servers, decommission over a
// master and its chunk servers. It knows nothing of terminals or web pages: progress is a
// callback, failures are GfsErrors with a stable code.
import type { Readable, Writable } from 'node:stream';
import type { Logger } from 'pino';
import { BufferPool } from '../wire/buffer-pool.js';
import type { SpillProvider } from '../wire/payload.js';
import { ConnectionPool, DEFAULT_POOL_IDLE_MS } from '../net/pool.js';
import { call, type CallOptions, type Reply } from '../net/rpc.js';
import { append, type AppendResult } from './append.js';
import { LeaseCache } from './record-append.js';
import { ChunkCache, type CacheStats } from './chunk-cache.js';
import { GfsError } from './errors.js';
import { getToPath, getToStream } from './get.js';
import { MasterApi, type MasterState } from './master-api.js';
import { put, type PutResult } from './put.js';
import { loadClientCredential } from '../auth/client.js';
import { signedFrame, type Credential } from '../auth/signer.js';
import { BufferReader, FileReader, Scratch, StreamReader, type PieceReader } from './source.js';
import { inspectFile, listFolder, listServers, type FileStat, type Listing, type ServerEntry } from './views.js';
import { baseName, folderOf, folderProblem, joinPath, pathProblem } from '../paths.js';
import { checksum, usage, type Checksum, type Usage } from './tree.js';
import { getFolder, putFolder, removeFolder, type FolderResult } from './folders.js';
import { getDecrypted, sealedSource } from './sealed-transfer.js';
import { checkAddress, clientTls, type DecryptOption, type EncryptOption, type GfsClientOptions, type PutOptions, type TransferOptions } from './options.js';

export { GfsError, type GfsErrorCode } from './errors.js';
export type { AppendResult } from './append.js';
export type { FileEntry, FileStat, Listing, ServerEntry, ChunkStat } from './views.js';
export type { Checksum, Usage } from './tree.js';
export type { CacheStats } from './chunk-cache.js';
export type { PutResult } from './put.js';
export type { FolderResult, FolderFileResult } from './folders.js';
export { loadKeyFile, passphraseKey, type EncryptionKey } from './encryption.js';
export { copyWarnings, indexed } from './copies.js';
export type { MasterState } from './master-api.js';
export type { ClientTlsFiles, DecryptOption, EncryptOption, GfsClientOptions, ProgressFn, PutOptions, TransferOptions } from './options.js';

/** The reference's [client] upload_chunk_size default. */
export const DEFAULT_CHUNK_SIZE = 64_000_000;
export const DEFAULT_CONCURRENCY = 4;
/** Copies a put must give every chunk unless told otherwise: fewer than the factor is a warning, not an error. */
export const DEFAULT_MIN_COPIES = 1;
/** How long one call may wait, in ms (see GfsClientOptions.timeoutMs). */
export const DEFAULT_TIMEOUT_MS = 30_000;
// The TCP handshake's limit, in ms, unless the call's timeout is shorter.
const CONNECT_TIMEOUT_MS = 5_000;
// Chunks are 64 MB at most; a frame beyond 1 GiB is not one the servers would accept either.
const MAX_CHUNK_SIZE = 512 * 1024 * 1024;
// I/O blocks kept for reuse: two per chunk in flight is plenty.
const POOL_BYTES = 16 * 1024 * 1024;

export class GfsClient {
  private readonly pool = new BufferPool(POOL_BYTES);
  private readonly callOpts: CallOptions;
  /** Files' last chunks and primaries, for record appends. */
  private readonly leases = new LeaseCache();
  private readonly masterApi: MasterApi;
  private readonly chunkSize: number;
  private readonly concurrency: number;
  private readonly log: Logger | undefined;
  private readonly cache: ChunkCache | null;
  private readonly connections: ConnectionPool;

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
    // Kept connections: a TLS handshake per connection, not per chunk or per master question.
    this.connections = new ConnectionPool({ maxIdlePerAddress: this.concurrency * 2, idleMs: DEFAULT_POOL_IDLE_MS });
    this.callOpts = { connectTimeoutMs, idleTimeoutMs: timeoutMs, encode, tls: opts.tls && clientTls(opts.tls), connections: this.connections };
    this.masterApi = new MasterApi(opts.master, { ...this.callOpts, deadlineMs: timeoutMs }, this.pool);
    this.log = opts.log;
    const cacheBytes = opts.cacheBytes ?? 0;
    if (!Number.isSafeInteger(cacheBytes) || cacheBytes < 0) throw new GfsError('bad_input', `cache size must be a whole number of bytes, got ${cacheBytes}`);
    this.cache = cacheBytes > 0 ? new ChunkCache(cacheBytes) : null;
  }

  /** The read cache's counters; null when the client has none. */
  cacheStats(): CacheStats | null {
    return this.cache?.stats() ?? null;
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

  /** Any name the master holds may be read or removed, those from before the path rule too. */
  private checkRemote(remote: string): void {
    if (typeof remote !== 'string' || remote.length === 0) throw new GfsError('bad_input', 'the remote path is empty');
  }

  /** A name about to be created keeps the path rule (src/paths.ts), checked before anything is sent. */
  private checkNewPath(remote: string): void {
    this.checkRemote(remote);
    const why = pathProblem(remote);
    if (why !== null) throw new GfsError('bad_input', `invalid remote path ${JSON.stringify(remote)}: ${why} (paths are absolute, like /folder/name)`);
  }

  /** Uploads a local file (path), a Buffer or a stream to `remote`. Returns the bytes stored. */
  async put(source: string | Buffer | Readable, remote: string, opts: PutOptions = {}): Promise<PutResult> {
    this.checkNewPath(remote);
    const minCopies = opts.minCopies ?? DEFAULT_MIN_COPIES;
    if (!Number.isSafeInteger(minCopies) || minCopies < 1) throw new GfsError('bad_input', `min copies must be a whole number from 1, got ${minCopies}`);
    const deps = { master: this.masterApi, call: this.rpc, chunkSize: this.chunkSize, concurrency: this.concurrency, log: this.log };
    const sealed = opts.encrypt && (await sealedSource(source, opts.encrypt));
    try {
      return await this.withReader(sealed || source, (reader) => put(deps, reader, remote, opts.overwrite ?? false, minCopies, opts.onProgress));
    } finally {
      sealed?.destroy();
    }
  }

  /** Downloads `remote` into a local path (written whole or not at all) or a stream. Returns the bytes. */
  async get(remote: string, target: string | Writable, opts: TransferOptions & DecryptOption = {}): Promise<number> {
    this.checkRemote(remote);
    const deps = { master: this.masterApi, call: this.rpcInto, concurrency: this.concurrency, cache: this.cache, log: this.log };
    if (opts.decrypt) return getDecrypted(deps, remote, target, opts.decrypt, opts.onProgress);
    return typeof target === 'string' ? getToPath(deps, remote, target, opts.onProgress) : getToStream(deps, remote, target, opts.onProgress);
  }

  /**
   * Appends to `remote`, creating it when missing (with put: `minCopies` then fails it as a
   * put, keeping nothing). Returns the bytes appended, where the first went, the copies each
   * chunk written reached and the fewest (`copies`). A chunk that reached fewer than
   * `minCopies` holders stops the append with under_replicated; bytes appended before stay.
   */
  async append(remote: string, source: string | Buffer | Readable, opts: TransferOptions & EncryptOption & { minCopies?: number } = {}): Promise<AppendResult> {
    this.checkRemote(remote);
    const minCopies = opts.minCopies ?? DEFAULT_MIN_COPIES;
    if (!Number.isSafeInteger(minCopies) || minCopies < 1) throw new GfsError('bad_input', `min copies must be a whole number from 1, got ${minCopies}`);
    // A file whose last chunk is cached exists: no master round trip before the record.
    if (!this.leases.get(remote) && !(await this.masterApi.metadata(remote))) {
      this.checkNewPath(remote);
      const r = await this.put(source, remote, { onProgress: opts.onProgress, minCopies, encrypt: opts.encrypt });
      return { appended: r.size, offset: 0, copies: r.copies.length === 0 ? 0 : Math.min(...r.copies), chunks: r.copies.map((copies, index) => ({ index, copies })), factor: r.factor };
    }
    const deps = { master: this.masterApi, call: this.rpc, chunkSize: this.chunkSize, log: this.log, cache: this.leases };
    // An encrypted append is a record of its own, with its own data key (encryption.ts).
    const sealed = opts.encrypt && (await sealedSource(source, opts.encrypt));
    try {
      return await this.withReader(sealed || source, (reader) => append(deps, reader, remote, minCopies, opts.onProgress));
    } finally {
      sealed?.destroy();
    }
  }

  /** The folder's files with their sizes and (unless `recursive`) its folders; `/media` and `/media/` are the same folder. */
  list(folder = '/', opts: { recursive?: boolean } = {}): Promise<Listing> {
    const f = folderOf(folder);
    if (f === null) throw new GfsError('bad_input', `invalid folder ${JSON.stringify(folder)}: ${folderProblem(folder)} (paths are absolute, like /folder/name)`);
    return listFolder(this.masterApi, f, opts.recursive ?? false);
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

  private folderArg(folder: string): string {
    const f = folderOf(folder);
    if (f === null) throw new GfsError('bad_input', `invalid folder ${JSON.stringify(folder)}: ${folderProblem(folder)} (paths are absolute, like /folder/name)`);
    return f;
  }

  /**
   * Removes every file under `folder` at any depth (a folder that is itself a file: that
   * file). The root is refused unless `force`: one slip would empty the cluster. Each file's
   * outcome is in the result; file_not_found when the folder holds nothing.
   */
  async removeFolder(folder: string, opts: { force?: boolean } = {}): Promise<FolderResult> {
    const f = this.folderArg(folder);
    if (f === '/' && !opts.force) throw new GfsError('bad_input', 'refusing to remove every file in the cluster (the folder is /); force it to');
    const r = await removeFolder(this, f);
    if (r.files.length === 0) throw new GfsError('file_not_found', `no file under ${f}`);
    return r;
  }

  /** Uploads every file below `localDir` to the same relative path under `remoteFolder`; each file's outcome is in the result. */
  async putFolder(localDir: string, remoteFolder: string, opts: Omit<PutOptions, 'onProgress'> & TransferOptions = {}): Promise<FolderResult> {
    return putFolder(this, localDir, this.folderArg(remoteFolder), { overwrite: opts.overwrite ?? false, minCopies: opts.minCopies, encrypt: opts.encrypt, onProgress: opts.onProgress });
  }

  /** Downloads every file under `remoteFolder` to the same relative path below `localDir`; file_not_found when it holds nothing. */
  async getFolder(remoteFolder: string, localDir: string, opts: TransferOptions & DecryptOption = {}): Promise<FolderResult> {
    const r = await getFolder(this, this.folderArg(remoteFolder), localDir, opts);
    if (r.files.length === 0) throw new GfsError('file_not_found', `no file under ${this.folderArg(remoteFolder)}`);
    return r;
  }

  /**
   * The master's rename_file: atomic, refused (file_exists) when `to` is taken. A `to`
   * ending in `/` is a folder: the file keeps its name in it, as mv does.
   */
  async move(from: string, to: string): Promise<string> {
    this.checkRemote(from);
    const folder = to.endsWith('/') ? folderOf(to) : null;
    const target = folder === null ? to : joinPath(folder, baseName(from));
    this.checkNewPath(target);
    await this.masterApi.rename(from, target);
    return target;
  }

  /** A checksum of the file from its chunk list (no data read; see tree.ts). */
  async checksum(remote: string): Promise<Checksum> {
    this.checkRemote(remote);
    return checksum(this.masterApi, remote);
  }

  /** Bytes, files and chunks under the folder, in total and per folder directly in it. */
  async usage(folder = '/'): Promise<{ total: Usage; folders: Usage[] }> {
    const { files } = await this.list(folder, { recursive: true });
    return usage(folderOf(folder)!, files);
  }

  servers(): Promise<ServerEntry[]> {
    return listServers(this.masterApi);
  }

  /**
   * The master's decommission_server: it moves the server's chunks elsewhere. Refused
   * (decommission_refused) when the other servers could never hold them, unless `force`.
   * Returns the chunks still to copy and the master's guess of the seconds left (null: none yet).
   */
  async decommission(address: string, opts: { force?: boolean } = {}): Promise<{ chunks_left: number | null; eta_s: number | null }> {
    checkAddress(address);
    return this.masterApi.decommission(address, opts.force ?? false);
  }

  /** The master's forget_server: a dead server leaves its lists (it remembers servers across restarts). */
  /** Each master given (`master: "a,b,c"`): its role, the leader it knows, since when it leads. */
  masters(): Promise<MasterState[]> {
    return this.masterApi.statusOfEach();
  }

  async forget(address: string): Promise<void> {
    checkAddress(address);
    return this.masterApi.forget(address);
  }

  /** Connections opened and calls that reused one, since the client was made. */
  connectionStats(): { opened: number; reused: number } {
    return { opened: this.connections.opened, reused: this.connections.reused };
  }

  /** Closes the idle kept connections (they never hold a process open: they are unref'd). */
  close(): void {
    this.connections.close();
  }
}
