import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { createSecureContext, type PeerCertificate, type SecureContext } from 'node:tls';
import type { Logger } from 'pino';

/** [security] tls's files (src/config/tls.ts reads them from the TOML file). */
export interface TlsPaths {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
}

/** A certificate, key or CA this process will not use; the message says which file and why. */
export class TlsFileError extends Error {
  override name = 'TlsFileError';
}

// Certificate files are polled, not inotify-watched: a rotation by rename (certbot, a
// config manager) replaces the inode an fs.watch would follow.
const POLL_MS = 1000;

/** The PEM texts of a checked set, as tls.createServer and setSecureContext take them. */
export interface TlsPems {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer;
  readonly minVersion: 'TLSv1.2';
}

interface Loaded {
  readonly pems: TlsPems;
  readonly context: SecureContext;
  readonly validTo: string;
}

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new TlsFileError(`${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/**
 * Reads and checks the three files: the certificate must be current, signed by the CA and
 * match the key. A bad set throws TlsFileError rather than serve what peers would refuse.
 */
function load(paths: TlsPaths, nowMs: number): Loaded {
  const certPem = readPem(paths.certFile, 'certificate');
  const keyPem = readPem(paths.keyFile, 'key');
  const caPem = readPem(paths.caFile, 'CA');
  let cert: X509Certificate;
  let ca: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
    ca = new X509Certificate(caPem);
  } catch (err) {
    throw new TlsFileError(`${paths.certFile} or ${paths.caFile}: not a PEM certificate (${(err as Error).message})`);
  }
  if (Date.parse(cert.validTo) < nowMs) throw new TlsFileError(`certificate ${paths.certFile} expired on ${cert.validTo}`);
  if (Date.parse(cert.validFrom) > nowMs) throw new TlsFileError(`certificate ${paths.certFile} is not valid before ${cert.validFrom}`);
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) throw new TlsFileError(`certificate ${paths.certFile} is not signed by the CA in ${paths.caFile}`);
  try {
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) throw new Error('it belongs to another certificate');
  } catch (err) {
    throw new TlsFileError(`key ${paths.keyFile} does not fit ${paths.certFile}: ${(err as Error).message}`);
  }
  const pems: TlsPems = { cert: certPem, key: keyPem, ca: caPem, minVersion: 'TLSv1.2' };
  return { pems, context: createSecureContext(pems), validTo: cert.validTo };
}

/**
 * A process's TLS identity: its certificate, key and the cluster CA as one secure context,
 * rebuilt when a file changes (rotation without restart). A changed set that fails its
 * checks is logged and the previous one kept, so a half-copied rotation never takes a
 * server off the air.
 */
export class TlsCredentials {
  private loaded: Loaded;
  private readonly listeners: Array<(pems: TlsPems) => void> = [];
  private watching = false;

  constructor(readonly paths: TlsPaths) {
    this.loaded = load(paths, Date.now());
  }

  /** The current context: each new connection takes it, so a reload reaches the next one. */
  get context(): SecureContext {
    return this.loaded.context;
  }

  get pems(): TlsPems {
    return this.loaded.pems;
  }

  /** Called with each set a reload makes (a server swaps it in with setSecureContext). */
  onReload(listener: (pems: TlsPems) => void): void {
    this.listeners.push(listener);
  }

  watch(log: Logger): void {
    if (this.watching) return;
    this.watching = true;
    const reload = (): void => {
      try {
        this.loaded = load(this.paths, Date.now());
      } catch (err) {
        log.error({ err: (err as Error).message }, 'TLS files changed but cannot be used; keeping the previous certificate');
        return;
      }
      log.info({ cert: this.paths.certFile, valid_to: this.loaded.validTo }, 'TLS certificate reloaded');
      for (const listener of this.listeners) listener(this.loaded.pems);
    };
    for (const file of new Set([this.paths.certFile, this.paths.keyFile, this.paths.caFile])) {
      watchFile(file, { interval: POLL_MS, persistent: false }, (now, before) => {
        if (now.mtimeMs !== before.mtimeMs || now.ino !== before.ino || now.size !== before.size) reload();
      });
    }
  }

  close(): void {
    if (!this.watching) return;
    this.watching = false;
    for (const file of new Set([this.paths.certFile, this.paths.keyFile, this.paths.caFile])) unwatchFile(file);
  }
}

/** [security] tls resolved: the mode, this process's credentials, and who counts as a member. */
export interface TlsSettings {
  readonly mode: 'members' | 'all';
  readonly credentials: TlsCredentials;
  /** Certificate common names that are members; empty: any certificate of the CA. */
  readonly allowedNames: readonly string[];
}

/** The certificate's common name, when it has exactly one. */
export function commonName(cert: PeerCertificate | undefined): string | null {
  const cn = cert?.subject?.CN as unknown;
  return typeof cn === 'string' ? cn : null;
}

/** Whether a verified certificate's name makes its holder a member. */
export function isMemberName(allowedNames: readonly string[], name: string | null): boolean {
  return name !== null && (allowedNames.length === 0 || allowedNames.includes(name));
}
