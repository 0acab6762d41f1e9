import type { Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { MemberRequiredError, TlsRefusedError, TlsRequiredError } from '../errors.js';
import type { Dispatch } from './connection.js';
import { refuseConnection } from './reply-writer.js';
import { commonName, isMemberName, type TlsSettings } from './tls.js';

// A TLS connection starts with a handshake record (content type 22); a frame of ours starts
// with the high byte of its length, which would be 22 only for a frame of 352 MiB or more.
const TLS_HANDSHAKE_RECORD = 0x16;

export interface ServerTls {
  readonly settings: TlsSettings;
  /** Whether a request is for members only (the command registry's access policy). */
  readonly memberOnly: (decoded: unknown) => boolean;
}

/** The connection to serve, and whether its peer proved with a certificate that it is a member. */
export type Accepted = { readonly socket: Socket; readonly member: boolean };

export type Acceptor = (raw: Socket) => void;

/**
 * Tells TLS from plain TCP by the first byte and completes the handshake. Under "members"
 * plain TCP is served (clients); under "all" it is answered `tls_required` and closed, with
 * a log line, so neither side is left guessing. A certificate the CA does not vouch for is
 * answered `tls_refused: <reason>`; no certificate makes a client. Calls `serve` only for a
 * connection to serve.
 */
export function tlsAcceptor(tls: ServerTls, o: { handshakeTimeoutMs: number; log: Logger }, serve: (a: Accepted) => void): Acceptor {
  const { credentials, allowedNames, mode } = tls.settings;
  // Clients without a certificate are welcome (they may be refused member-only requests), so
  // the handshake asks for one and the check of what came is made here, with a reply.
  const server = createTlsServer({ ...credentials.pems, requestCert: true, rejectUnauthorized: false, allowHalfOpen: true, handshakeTimeout: o.handshakeTimeoutMs });
  credentials.onReload((pems) => server.setSecureContext(pems));
  server.on('tlsClientError', (err, socket) => {
    o.log.info({ remote: `${socket.remoteAddress}:${socket.remotePort}`, err: err.message }, 'TLS handshake failed');
    socket.destroy();
  });
  server.on('secureConnection', (secure: TLSSocket) => {
    const remote = `${secure.remoteAddress}:${secure.remotePort}`;
    const cert = secure.getPeerCertificate();
    const presented = cert !== null && Object.keys(cert).length > 0;
    if (presented && !secure.authorized) {
      const reason = String(secure.authorizationError ?? 'unverified');
      o.log.warn({ remote, name: commonName(cert), reason }, 'TLS peer refused: certificate not accepted');
      refuseConnection(secure, new TlsRefusedError(reason).toReply());
      return;
    }
    serve({ socket: secure, member: presented && isMemberName(allowedNames, commonName(cert)) });
  });

  return (raw) =>
    sniffTls(raw, o.handshakeTimeoutMs, (isTls) => {
      if (isTls) {
        server.emit('connection', raw);
        return;
      }
      if (mode === 'all') {
        o.log.warn({ remote: `${raw.remoteAddress}:${raw.remotePort}` }, 'plain TCP refused: [security] tls = "all"');
        refuseConnection(raw, new TlsRequiredError().toReply());
        return;
      }
      serve({ socket: raw, member: false });
      raw.resume();
    });
}

/**
 * Calls `then` with whether the socket's first bytes open a TLS handshake, the bytes put back
 * and the socket paused; a socket that sends nothing within `timeoutMs` is closed.
 */
export function sniffTls(raw: Socket, timeoutMs: number, then: (tls: boolean) => void): void {
  const timer = setTimeout(() => raw.destroy(), timeoutMs);
  const fail = (): void => {
    clearTimeout(timer);
    raw.destroy();
  };
  raw.on('error', fail);
  raw.once('end', fail);
  raw.once('data', (chunk: Buffer) => {
    clearTimeout(timer);
    raw.pause();
    raw.off('end', fail);
    raw.off('error', fail);
    raw.unshift(chunk);
    then(chunk[0] === TLS_HANDSHAKE_RECORD);
  });
}

/** A connection's dispatch when its peer is no member by certificate: member-only requests are refused. */
export function membersByCertificate<Seen>(dispatch: Dispatch<Seen>, tls: ServerTls, o: { remote: string; log: Logger }): Dispatch<Seen> {
  return (decoded, seen) => {
    if (!tls.memberOnly(decoded)) return dispatch(decoded, seen);
    o.log.warn({ remote: o.remote, command: (decoded as { command?: unknown }).command }, 'request refused: no member certificate');
    return Promise.resolve(new MemberRequiredError().toReply());
  };
}
