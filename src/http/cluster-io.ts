import type { Readable, Writable } from 'node:stream';
import type { GfsClient } from '../client/index.js';
import { GfsError, type GfsErrorCode } from '../client/errors.js';
import { HttpError } from './http-server.js';

/** What the console's actions need from the cluster; errors thrown are HttpErrors with words for people. */
export interface ConsoleIO {
  put(path: string, body: Readable, onProgress: (doneBytes: number) => void): Promise<void>;
  get(path: string, out: Writable): Promise<void>;
  append(path: string, data: Buffer): Promise<void>;
  /** The master's `delete_file`, run in this process. */
  remove(path: string): Promise<void>;
}

// The client library's failures as HTTP statuses (its codes stay in the body for scripts).
const STATUS: Record<GfsErrorCode, number> = {
  master_unreachable: 502,
  master_error: 502,
  file_not_found: 404,
  file_exists: 409,
  local_io: 500,
  no_servers: 503,
  cluster_full: 507,
  chunk_unavailable: 502,
  chunk_corrupt: 502,
  unknown_server: 404,
  unsupported: 501,
  bad_input: 400,
};

async function asHttp<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof GfsError) throw new HttpError(STATUS[err.code], err.code, err.message);
    throw err;
  }
}

/**
 * The console's reads and writes go through the client library, exactly as `gfs` does them
 * (sha256 chunk ids, a primary that replicates, fallback to the next server, verified
 * downloads, the reference's two-phase append); delete runs the master's own command.
 */
export function clientIO(client: GfsClient, command: (body: Record<string, unknown>) => Promise<Record<string, unknown>>): ConsoleIO {
  return {
    put: (path, body, onProgress) => asHttp(async () => void (await client.put(body, path, { onProgress: (done) => onProgress(done) }))),
    get: (path, out) => asHttp(async () => void (await client.get(path, out))),
    append: (path, data) => asHttp(async () => void (await client.append(path, data))),
    async remove(path) {
      const reply = await command({ command: 'delete_file', file_path: path });
      if (reply.status === 'ok') return;
      if (reply.message === 'file_not_found') throw new HttpError(404, 'file_not_found', `no such file: ${path}`);
      throw new HttpError(502, 'delete_failed', `delete_file failed: ${String(reply.message)}`);
    },
  };
}
