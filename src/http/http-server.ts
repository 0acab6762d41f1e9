import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import type { Logger } from 'pino';
import { listenOn } from '../net/listen.js';
import type { TlsCredentials } from '../net/tls.js';
import { sniffTls } from '../net/tls-accept.js';

// How long a connection to an HTTPS port may stay silent before its first byte.
const FIRST_BYTE_TIMEOUT_MS = 10_000;
const PLAIN_REFUSAL =
  'HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain; charset=utf-8\r\nconnection: close\r\n\r\n' +
  'This port speaks HTTPS only ([security] tls = "all"): use https://\n';

/** An error a request caused: its status, a stable code and a sentence for people. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Headers the refusal needs (a 401's challenge). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export interface RouteRequest {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
}

export type RouteHandler = (r: RouteRequest) => Promise<void> | void;

/** Path -> method -> handler; exact paths only (the API passes file paths in the query). */
export type Routes = Record<string, Partial<Record<string, RouteHandler>>>;

/**
 * The bounds of every HTTP server of ours (docs/security.md, "The HTTP side"), as the TCP
 * side has frame_timeout_s, idle_timeout_s and max_connections.
 */
export const HTTP_LIMITS = {
  /** A request's headers must arrive within this, else 408 and the connection closes. */
  headersTimeoutMs: 10_000,
  /** The whole request, body included, within this (uploads larger than it go through `gfs put`). */
  requestTimeoutMs: 600_000,
  /** A connection that moves no byte either way for this long is closed: the write deadline of downloads and event streams. */
  idleTimeoutMs: 60_000,
  /** Connections open at once; past it a new one is closed at once, unanswered. */
  maxConnections: 128,
  /** Bytes of a request's headers; past it 431 and the connection closes. */
  maxHeaderBytes: 16 * 1024,
} as const;

// How often node checks headersTimeout and requestTimeout (its default, 30 s, would let a
// stalled request live 40 s instead of 10).
const TIMEOUT_CHECK_MS = 1000;

/** Runs before a matched route's handler; throws an HttpError to refuse the request. */
export type Guard = (req: IncomingMessage, url: URL) => void;

export interface HttpSide {
  readonly port: number;
  close(): Promise<void>;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

export function sendText(res: ServerResponse, status: number, contentType: string, body: string | Buffer): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}

function sendError(req: IncomingMessage, res: ServerResponse, err: HttpError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // A refusal before the whole body arrived (a failed upload): the rest of the body is not
  // read, so the connection cannot carry another request; saying so keeps a client from
  // reusing it and meeting a reset.
  if (!req.complete) res.setHeader('connection', 'close');
  for (const [name, value] of Object.entries(err.headers)) res.setHeader(name, value);
  sendJson(res, err.status, { error: err.code, message: err.message });
}

async function route(routes: Routes, req: IncomingMessage, res: ServerResponse, log: Logger, guard: Guard | undefined): Promise<void> {
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://localhost');
  } catch {
    throw new HttpError(400, 'bad_url', 'the request URL cannot be parsed');
  }
  const methods = routes[url.pathname];
  if (!methods) throw new HttpError(404, 'not_found', `no such path: ${url.pathname}`);
  const handler = methods[req.method ?? 'GET'] ?? (req.method === 'HEAD' ? methods.GET : undefined);
  if (!handler) {
    res.setHeader('allow', Object.keys(methods).join(', '));
    throw new HttpError(405, 'method_not_allowed', `${req.method} is not allowed on ${url.pathname}; use ${Object.keys(methods).join(' or ')}`);
  }
  log.debug({ method: req.method, path: url.pathname }, 'http request');
  guard?.(req, url);
  await handler({ req, res, url });
}

/**
 * A plain node:http server over a route table. Every failure of a request ends in a JSON
 * error reply (or a closed response once the body has started); none can reach the process,
 * so the TCP side of the process it lives in never goes down with it.
 */
export async function listenHttp(opts: {
  host: string;
  port: number;
  routes: Routes;
  log: Logger;
  guard?: Guard;
  /** Sees each answered request: its route (or `other`), status code, and seconds from request to the response's end. */
  onResponse?: (route: string, status: number, seconds: number) => void;
  /** Serve HTTPS with these credentials (re-read on change), answering plain HTTP with a 400 that says so. */
  tls?: TlsCredentials;
}): Promise<HttpSide> {
  const { routes, log, tls } = opts;
  const limits = {
    headersTimeout: HTTP_LIMITS.headersTimeoutMs,
    requestTimeout: HTTP_LIMITS.requestTimeoutMs,
    maxHeaderSize: HTTP_LIMITS.maxHeaderBytes,
    connectionsCheckingInterval: TIMEOUT_CHECK_MS,
  };
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    if (opts.onResponse) {
      const path = (req.url ?? '/').split('?')[0]!;
      const routeName = Object.hasOwn(routes, path) ? path : 'other';
      const started = process.hrtime.bigint();
      res.once('finish', () => opts.onResponse!(routeName, res.statusCode, Number(process.hrtime.bigint() - started) / 1e9));
    }
    route(routes, req, res, log, opts.guard).catch((err: unknown) => {
      if (err instanceof HttpError) return sendError(req, res, err);
      log.error({ err, path: req.url }, 'http request failed');
      sendError(req, res, new HttpError(500, 'internal_error', 'the server failed to answer; see its log'));
    });
  };
  const server: Server = tls ? createHttpsServer({ ...tls.pems, ...limits }, handle) : createServer(limits, handle);
  if (tls) tls.onReload((pems) => (server as import('node:https').Server).setSecureContext(pems));
  const front: Server | TcpServer = tls ? httpsFront(server, log) : server;
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    // A request node could not take (late headers, oversized headers, bad syntax): say which, then close.
    const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    // A response already under way (node's _httpMessage) cannot be followed by another one.
    if (socket.writable && !(socket as { _httpMessage?: unknown })._httpMessage) socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    else socket.destroy();
  });
  server.on('error', (err) => log.error({ err }, 'http server error'));
  // Browsers keep connections (and event streams) open: a shutdown must not wait for them.
  server.keepAliveTimeout = 5000;
  // Counted where connections arrive: the HTTPS front hands its sockets on by hand.
  front.maxConnections = HTTP_LIMITS.maxConnections;
  // Without a 'timeout' listener node destroys the idle socket.
  server.timeout = HTTP_LIMITS.idleTimeoutMs;
  const port = await listenOn(front, opts);
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        if (front !== server) front.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The port in front of an HTTPS server: TLS goes through, plain HTTP gets a 400 saying so and a log line. */
function httpsFront(server: Server, log: Logger): TcpServer {
  const front = createTcpServer((raw) =>
    sniffTls(raw, FIRST_BYTE_TIMEOUT_MS, (isTls) => {
      if (isTls) return void server.emit('connection', raw);
      log.warn({ remote: `${raw.remoteAddress}:${raw.remotePort}` }, 'plain HTTP refused: [security] tls = "all"');
      raw.on('error', () => undefined);
      raw.resume();
      raw.end(PLAIN_REFUSAL);
    }),
  );
  front.on('error', (err) => log.error({ err }, 'http server error'));
  return front;
}

/** The request body, refused beyond `maxBytes`. */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of req as AsyncIterable<Buffer>) {
    size += part.length;
    if (size > maxBytes) throw new HttpError(413, 'body_too_large', `the body exceeds ${maxBytes} bytes`);
    parts.push(part);
  }
  return Buffer.concat(parts, size);
}
