import type { Readable, Writable } from 'node:stream';
import type { GfsClient } from '../../client/index.js';
import { GfsError, type GfsErrorCode } from '../../client/errors.js';
import { HttpError } from '../../http/http-server.js';

/** What the console's actions need from the cluster; errors thrown are HttpErrors with words for people. */
export interface ConsoleIO {
  /** Throws why the cluster would refuse this action from the console, before any byte moves. */
  authorize(action: ConsoleAction): void;
  /** Fails (under_replicated, nothing kept) when a chunk gets fewer than `minCopies` copies, as gfs put does. */
  put(path: string, body: Readable, onProgress: (doneBytes: number) => void, minCopies: number): Promise<{ copies: number[]; factor: number | null }>;
  get(path: string, out: Writable): Promise<void>;
  append(path: string, data: Buffer): Promise<void>;
  remove(path: string): Promise<void>;
}

export type ConsoleAction = 'upload' | 'download' | 'append' | 'delete';

// What each action needs, as the command modules class the commands the client library sends for it.
const NEEDS: Record<ConsoleAction, 'read' | 'write'> = { upload: 'write', download: 'read', append: 'write', delete: 'write' };

/** How the console's requests fare under the cluster's [security]. */
export interface ConsoleSigning {
  /** [security] client_auth; 'off' also when the cluster has no key at all. */
  readonly clientAuth: 'off' | 'writes' | 'all';
  /** The client id the console signs as ([master] console_key_file), or null: it sends unsigned requests. */
  readonly signsAs: string | null;
}

// The client library's failures as HTTP statuses (its codes stay in the body for scripts).
const STATUS: Record<GfsErrorCode, number> = {
  master_unreachable: 502,
  master_closed: 502,
  master_timeout: 504,
  not_gfs_master: 502,
  master_error: 502,
  file_not_found: 404,
  file_exists: 409,
  local_io: 500,
  no_servers: 503,
  cluster_full: 507,
  chunk_unavailable: 502,
  chunk_corrupt: 502,
  under_replicated: 507,
  unknown_server: 404,
  server_live: 409,
  decommission_refused: 409,
  unsupported: 501,
  not_encrypted: 422,
  wrong_key: 422,
  decrypt_failed: 422,
  bad_input: 400,
};

// The servers' refusals of a missing or unknown proof (src/errors.ts), inside the library's words.
const AUTH_REFUSAL = /\bauth_required\b|\bauth_failed\b/;

/**
 * An action the servers would refuse unsigned is not attempted unsigned: the page gets why at
 * once, and nothing is half-stored.
 */
function checkSigning(signing: ConsoleSigning, action: ConsoleAction): void {
  if (signing.signsAs !== null) return;
  if (signing.clientAuth === 'all' || (NEEDS[action] === 'write' && signing.clientAuth === 'writes')) {
    throw new HttpError(
      403,
      'console_key_required',
      `this cluster has client_auth = "${signing.clientAuth}": the console's ${action}s must be signed; set [master] console_key_file to a client key the servers know (docs/operating.md, "The console under client_auth")`,
    );
  }
}

async function asHttp<T>(signing: ConsoleSigning, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (!(err instanceof GfsError)) throw err;
    if (AUTH_REFUSAL.test(err.message)) {
      const who = signing.signsAs === null ? 'unsigned' : `signed as client "${signing.signsAs}"`;
      throw new HttpError(403, 'auth_refused', `${err.message} (the console's requests are ${who}; its key must be in client_keys_dir on the master and every chunk server)`);
    }
    throw new HttpError(STATUS[err.code], err.code, err.message);
  }
}

/**
 * The console's reads and writes go through the client library, exactly as `gfs` does them
 * (sha256 chunk ids, a primary that replicates, fallback to the next server, verified
 * downloads, the reference's two-phase append, the master's delete_file), signed with the
 * console's key when it has one: each passes the same checks as any client's request.
 */
export function clientIO(client: GfsClient, signing: ConsoleSigning): ConsoleIO {
  return {
    authorize: (action) => checkSigning(signing, action),
    put: (path, body, onProgress, minCopies) =>
      asHttp(signing, async () => {
        const r = await client.put(body, path, { onProgress: (done) => onProgress(done), minCopies });
        return { copies: r.copies, factor: r.factor };
      }),
    get: (path, out) => asHttp(signing, async () => void (await client.get(path, out))),
    append: (path, data) => asHttp(signing, async () => void (await client.append(path, data))),
    remove: (path) => asHttp(signing, () => client.remove(path)),
  };
}
