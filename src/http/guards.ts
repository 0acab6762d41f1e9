import { createHmac, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';
import { HttpError, type Guard } from './http-server.js';

/**
 * The header the console's page sends with every request that changes something. A page of
 * another site cannot send it: a custom header makes the browser ask first (a CORS preflight),
 * and this server never allows one; a plain form or an image cannot carry headers at all.
 */
export const PROOF_HEADER = 'x-gfs-console';

const SAFE_METHODS = new Set(['GET', 'HEAD']);
// Sec-Fetch-Site values a browser sends for the console's own page, or for a request a person typed.
const OWN_SITE = new Set(['same-origin', 'none']);

/**
 * Refuses with 403 a state-changing request that does not prove it comes from the console's
 * own page (docs/security.md, "The HTTP side"): a browser's word that it is cross-site, an
 * Origin other than the host it was sent to, or no proof header.
 */
export const sameOriginProof: Guard = (req) => {
  if (SAFE_METHODS.has(req.method ?? 'GET')) return;
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && !OWN_SITE.has(site)) {
    throw new HttpError(403, 'cross_origin', `a ${site} request cannot change anything here; use the console's own page or send ${PROOF_HEADER}: 1 from a script`);
  }
  const origin = req.headers.origin;
  // The scheme is the one this request came in on: an HTTPS console's own page sends https://.
  const scheme = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  if (origin !== undefined && origin !== `${scheme}://${req.headers.host ?? ''}`) {
    throw new HttpError(403, 'cross_origin', `a request from ${origin} cannot change anything here; use the console's own page`);
  }
  if (req.headers[PROOF_HEADER] !== '1') {
    throw new HttpError(403, 'proof_required', `requests that change something must carry the header ${PROOF_HEADER}: 1 (the console's page sends it)`);
  }
};

/** The host part of a Host header: `[::1]:80` → `::1`, `Name.example:80` → `name.example`. */
function hostName(header: string): string {
  const bracketed = /^\[([^\]]*)\](?::\d*)?$/.exec(header);
  if (bracketed) return bracketed[1]!.toLowerCase();
  return header.replace(/:\d*$/, '').replace(/\.$/, '').toLowerCase();
}

/**
 * Refuses with 403 a request whose Host is a name this server was not told it has. A page on
 * another site can point its own name at this address (DNS rebinding); the browser then calls
 * it same-origin and the other guards pass, but the Host it sends is still the page's name.
 * IP literals and localhost are always this server's; other names come from `[master] console_hosts`.
 */
export function knownHost(names: readonly string[]): Guard {
  const known = new Set(['localhost', ...names.map((n) => n.toLowerCase())]);
  return (req) => {
    const name = hostName(req.headers.host ?? '');
    if (isIP(name) !== 0 || known.has(name) || name.endsWith('.localhost')) return;
    throw new HttpError(403, 'host_not_allowed', `this console does not answer to the name ${JSON.stringify(name)}; add it to [master] console_hosts if it is this master's`);
  };
}

// What the read token signs: a purpose of its own, so it proves nothing on the TCP side.
const READ_TOKEN_PURPOSE = 'gfs http read v1';

/** The bearer token a cluster key gives for the HTTP side's reads under [security] http_read = "key". */
export function readToken(clusterKey: Buffer): string {
  return createHmac('sha256', clusterKey).update(READ_TOKEN_PURPOSE).digest('hex');
}

/** The token a request carries: `Authorization: Bearer T`, or Basic with T as the password (a browser's login box). */
function presented(req: IncomingMessage): string | null {
  const auth = req.headers.authorization ?? '';
  const bearer = /^Bearer\s+(\S+)$/i.exec(auth);
  if (bearer) return bearer[1]!;
  const basic = /^Basic\s+(\S+)$/i.exec(auth);
  if (!basic) return null;
  const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
  return decoded.slice(decoded.indexOf(':') + 1);
}

/**
 * Refuses with 401 a request to a path outside `open` that carries none of the tokens of
 * `clusterKeys` (every key verifies, as for rotation). The challenge names Basic, so a
 * browser asks for it and sends it on the page's later requests and event stream too.
 */
export function readKeyGuard(clusterKeys: readonly Buffer[], open: (path: string) => boolean): Guard {
  const tokens = clusterKeys.map((k) => Buffer.from(readToken(k)));
  return (req, url) => {
    if (open(url.pathname)) return;
    const got = Buffer.from(presented(req) ?? '');
    if (tokens.some((t) => t.length === got.length && timingSafeEqual(t, got))) return;
    throw new HttpError(401, 'read_key_required', 'this cluster has [security] http_read = "key": send Authorization: Bearer <token> (docs/security.md, "The HTTP side")', {
      'www-authenticate': 'Basic realm="gfs", charset="UTF-8"',
    });
  };
}

/** Both guards, in order. */
export function guards(...list: Array<Guard | null>): Guard {
  const active = list.filter((g): g is Guard => g !== null);
  return (req, url) => {
    for (const g of active) g(req, url);
  };
}
