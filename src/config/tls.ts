import { resolve } from 'node:path';
import { TlsCredentials, TlsFileError, type TlsSettings } from '../net/tls.js';
import { ConfigError, type Table } from './checks.js';
import { SECURITY_KEYS as S } from './keys/security.js';
import { read } from './schema.js';

/**
 * [security] tls with its files read and checked now: a missing, expired or foreign
 * certificate stops the process at start-up. undefined: tls = "off".
 */
export function resolveTls(file: Table): TlsSettings | undefined {
  const src = { file };
  const mode = read(S.tls, src);
  const cert = read(S.tlsCertFile, src);
  const key = read(S.tlsKeyFile, src);
  const ca = read(S.tlsCaFile, src);
  const allowedNames = read(S.tlsAllowedNames, src);
  if (mode === 'off') return undefined;
  if (cert === null || key === null || ca === null) throw new ConfigError(`[security] tls = "${mode}" needs tls_cert_file, tls_key_file and tls_ca_file`);
  try {
    const credentials = new TlsCredentials({ certFile: resolve(cert), keyFile: resolve(key), caFile: resolve(ca) });
    return { mode, credentials, allowedNames };
  } catch (err) {
    if (err instanceof TlsFileError) throw new ConfigError(`[security] tls: ${err.message}`);
    throw err;
  }
}
