import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext, rootCertificates } from 'node:tls';
import type { IOptions } from 'etcd3';
import { ConfigError } from './checks.js';
import type { ETCD_ACCESS_KEYS } from './keys/etcd-access.js';
import type { Settings } from './schema.js';

/** What the etcd3 client is given besides its hosts: TLS credentials and etcd user auth. */
export type EtcdAccess = Pick<IOptions, 'credentials' | 'auth'>;

type AccessKeys = Settings<typeof ETCD_ACCESS_KEYS> & { readonly etcdEndpoints: readonly string[] };

/**
 * The etcd settings of [master] with their files read, checked together, so a wrong
 * combination or an unreadable certificate stops the master at start-up rather than show up
 * as an etcd call that keeps failing. Called by resolveMasterConfig (the check) and again
 * when the client is made.
 */
export function etcdAccessOf(c: AccessKeys): EtcdAccess {
  const secure = c.etcdEndpoints.filter((e) => e.startsWith('https://')).length;
  if (secure > 0 && secure < c.etcdEndpoints.length) throw new ConfigError('[master] etcd_endpoints: all https:// or all http://, not a mix');
  if ((c.etcdCertFile === null) !== (c.etcdKeyFile === null)) throw new ConfigError('[master] etcd_cert_file and etcd_key_file go together');
  if ((c.etcdUsername === null) !== (c.etcdPasswordFile === null)) throw new ConfigError('[master] etcd_username and etcd_password_file go together');
  const tlsSet = c.etcdCaFile !== null || c.etcdCertFile !== null;
  // etcd3 speaks TLS to every host once credentials are given; to an http:// member that fails obscurely.
  if (tlsSet && secure === 0 && c.etcdEndpoints.length > 0) throw new ConfigError('[master] etcd_ca_file and etcd_cert_file need https:// etcd_endpoints');
  const access: EtcdAccess = {};
  if (tlsSet) {
    // Without etcd_ca_file the system's CAs, as etcd3 uses for https:// with no credentials.
    const rootCertificate = c.etcdCaFile === null ? Buffer.from(rootCertificates.join('\n')) : readFileSync(c.etcdCaFile);
    const certChain = c.etcdCertFile === null ? undefined : readFileSync(c.etcdCertFile);
    const privateKey = c.etcdKeyFile === null ? undefined : readFileSync(c.etcdKeyFile);
    try {
      // A CA file that holds no certificate passes createSecureContext and would only fail each connection.
      if (c.etcdCaFile !== null) new X509Certificate(rootCertificate);
      createSecureContext({ ca: rootCertificate, cert: certChain, key: privateKey });
    } catch (err) {
      throw new ConfigError(`[master] etcd_ca_file / etcd_cert_file / etcd_key_file: ${(err as Error).message}`);
    }
    access.credentials = { rootCertificate, certChain, privateKey };
  }
  if (c.etcdUsername !== null && c.etcdPasswordFile !== null) {
    const password = readFileSync(c.etcdPasswordFile, 'utf8').replace(/\r?\n$/, '');
    if (password === '') throw new ConfigError(`[master] etcd_password_file: ${c.etcdPasswordFile} is empty`);
    access.auth = { username: c.etcdUsername, password };
  }
  return access;
}
