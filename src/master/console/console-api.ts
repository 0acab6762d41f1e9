import { Transform } from 'node:stream';
import type { MasterRole } from '../etcd/role.js';
import type { ClusterView } from './cluster-view.js';
import type { ConsoleIO } from './cluster-io.js';
import type { StateEvents } from './events.js';
import { DEFAULT_PAGE_ENTRIES, folderPage, MAX_PAGE_ENTRIES } from './folder-listing.js';
import { humanBytes } from '../../units.js';
import { copyWarnings, indexed } from '../../client/copies.js';
import { HttpError, readBody, sendJson, type RouteRequest, type Routes } from '../../http/http-server.js';

// Longest file path taken (bytes of UTF-8), as a wire request's string fields are bounded.
const MAX_PATH_BYTES = 1024;
// Appends travel in one request body and one append_chunk, so they are bounded like a frame field.
const MAX_APPEND_BYTES = 16 * 1024 * 1024;

// Longest name filter of a folder listing, in characters.
const MAX_MATCH_CHARS = 256;
// Furthest offset into a folder: well past any namespace a master holds.
const MAX_OFFSET = 100_000_000;

export interface ConsoleApiOptions {
  /** The master's TCP address, which the page names in its title. */
  readonly master: string;
  /** This master's role and the leader it knows (master_status), which the page shows. */
  readonly role: () => MasterRole;
  readonly view: ClusterView;
  readonly io: ConsoleIO;
  readonly events: StateEvents;
}

// Clients the page's map shows; totals.clients counts them all. Up to 10,000 clients of
// 256-byte ids would make every state event megabytes, sent to every stream on each change.
export const MAX_CLIENTS_SHOWN = 200;

/**
 * The page's view of the cluster, as /api/state and the event stream give it. Files are not
 * in it (a namespace of 100k files would be megabytes per change): the page reads them a
 * folder page at a time from /api/folder.
 */
export function consoleState(view: ClusterView, master: string, role: MasterRole): Record<string, unknown> {
  return { master, role: role.role, leader: role.leader, leader_since: role.since, replication_factor: view.replicationFactor, servers: view.servers(), clients: view.clients(MAX_CLIENTS_SHOWN), totals: view.totals() };
}

/** A whole number from the query, `fallback` when absent, refused outside [min, max]. */
function intParam(url: URL, name: string, fallback: number, min: number, max: number): number {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new HttpError(400, 'bad_request', `${name} must be a whole number from ${min} to ${max}`);
  return n;
}

/** The folder of /api/folder: `/` when absent, always ending in `/`. */
function folderPath(url: URL): string {
  const raw = url.searchParams.get('path');
  if (raw === null || raw === '' || raw === '/') return '/';
  const path = filePath(url);
  return path.endsWith('/') ? path : `${path}/`;
}

function filePath(url: URL): string {
  const path = url.searchParams.get('path');
  if (path === null || path === '') throw new HttpError(400, 'bad_request', 'the query needs path=<file path>');
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) throw new HttpError(400, 'bad_request', `path is longer than ${MAX_PATH_BYTES} bytes`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(path)) throw new HttpError(400, 'bad_request', 'path holds control characters');
  return path;
}

function contentLength(r: RouteRequest): number {
  const raw = r.req.headers['content-length'];
  if (raw === undefined) throw new HttpError(411, 'length_required', 'send the body with a Content-Length (the free space is checked before any byte is stored)');
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new HttpError(400, 'bad_request', 'Content-Length is not a byte count');
  return n;
}

/**
 * Refuses a write of `bytes` that the live servers could not hold even once. Fewer copies
 * than the factor is no refusal: the write goes ahead and reports its copies, as gfs put
 * does (issue 25 item 3), and `min_copies` makes it strict.
 */
function checkRoom(view: ClusterView, bytes: number): void {
  const t = view.totals();
  if (t.servers.live === 0) throw new HttpError(503, 'no_live_servers', 'no chunk server is live; nothing can be stored');
  if (bytes > t.capacity.free) {
    throw new HttpError(413, 'insufficient_space', `${humanBytes(bytes)} does not fit even once: the live chunk servers have ${humanBytes(t.capacity.free)} free`);
  }
}

// No cluster has more copies of a chunk than this many servers would give.
const MAX_MIN_COPIES = 1000;

export function consoleApiRoutes(o: ConsoleApiOptions): Routes {
  const { view, io, events } = o;
  return {
    '/api/state': { GET: ({ res }) => sendJson(res, 200, consoleState(view, o.master, o.role())) },
    '/api/folder': {
      GET: ({ res, url }) => {
        const match = url.searchParams.get('match') ?? '';
        if (match.length > MAX_MATCH_CHARS) throw new HttpError(400, 'bad_request', `match is longer than ${MAX_MATCH_CHARS} characters`);
        const query = {
          path: folderPath(url),
          offset: intParam(url, 'offset', 0, 0, MAX_OFFSET),
          limit: intParam(url, 'limit', DEFAULT_PAGE_ENTRIES, 1, MAX_PAGE_ENTRIES),
          match,
        };
        sendJson(res, 200, folderPage(view.paths(), query, (paths) => view.summaries(paths)));
      },
    },
    '/api/events': { GET: ({ res }) => events.subscribe(res) },
    '/api/files': {
      GET: ({ res, url }) => sendJson(res, 200, { files: view.files(url.searchParams.get('prefix') ?? '') }),
    },
    '/api/file': {
      GET: ({ res, url }) => {
        const file = view.file(filePath(url));
        if (!file) throw new HttpError(404, 'file_not_found', `no such file: ${filePath(url)}`);
        sendJson(res, 200, file);
      },
      PUT: async (r) => {
        const path = filePath(r.url);
        const size = contentLength(r);
        io.authorize('upload');
        if (view.file(path)) throw new HttpError(409, 'file_exists', `${path} exists; delete it first or choose another path`);
        checkRoom(view, size);
        const minCopies = intParam(r.url, 'min_copies', 1, 1, MAX_MIN_COPIES);
        const upload = r.url.searchParams.get('upload_id') ?? path;
        let received = 0;
        const counted = new Transform({
          transform(piece: Buffer, _enc, done) {
            received += piece.length;
            done(null, piece);
          },
        });
        r.req.pipe(counted);
        let stored: { copies: number[]; factor: number | null };
        try {
          stored = await io.put(path, counted, (n) => events.publish('progress', { upload_id: upload, path, stored: n, total: size }), minCopies);
          if (received !== size) throw new HttpError(400, 'bad_request', `the body ended after ${received} of ${size} bytes`);
        } catch (err) {
          // No half-uploaded file is left listed: what was stored goes again.
          if (view.file(path)) await io.remove(path).catch(() => undefined);
          throw err;
        }
        sendJson(r.res, 201, { ...view.file(path), copies: stored.copies, replication_factor: stored.factor, warnings: copyWarnings(indexed(stored.copies), stored.factor) });
      },
      DELETE: async ({ res, url }) => {
        const path = filePath(url);
        io.authorize('delete');
        await io.remove(path);
        sendJson(res, 200, { deleted: path });
      },
    },
    '/api/file/data': {
      GET: async ({ res, url }) => {
        const path = filePath(url);
        const file = view.file(path);
        if (!file) throw new HttpError(404, 'file_not_found', `no such file: ${path}`);
        io.authorize('download');
        const lost = file.chunks.find((c) => c.health === 'lost');
        if (lost) throw new HttpError(502, 'chunk_unavailable', `chunk ${lost.index} of ${path} has no live holder`);
        const name = path.split('/').filter(Boolean).at(-1) ?? 'download';
        res.writeHead(200, {
          'content-type': 'application/octet-stream',
          'content-length': file.size,
          'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(name)}`,
          'cache-control': 'no-store',
        });
        await io.get(path, res);
        res.end();
      },
    },
    '/api/file/append': {
      POST: async (r) => {
        const path = filePath(r.url);
        const size = contentLength(r);
        if (size === 0) throw new HttpError(400, 'bad_request', 'nothing to append: the body is empty');
        if (size > MAX_APPEND_BYTES) throw new HttpError(413, 'body_too_large', `an append takes at most ${MAX_APPEND_BYTES} bytes`);
        io.authorize('append');
        if (!view.file(path)) throw new HttpError(404, 'file_not_found', `no such file: ${path}`);
        checkRoom(view, size);
        const data = await readBody(r.req, size);
        await io.append(path, data);
        sendJson(r.res, 200, view.file(path));
      },
    },
  };
}

