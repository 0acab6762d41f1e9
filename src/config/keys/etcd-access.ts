// [master] keys of the masters' connection to etcd: TLS (server CA, client certificate) and
// etcd's own user/password auth. Spread into MASTER_KEYS; src/config/etcd-access.ts reads
// the files and checks that the keys go together.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, text, type Check } from '../checks.js';
import { row, type Rows } from '../schema.js';

/** A path to a readable file, made absolute: a missing one stops the master at start-up, not at its first etcd call. */
const readableFile: Check<string> = (where, v) => {
  const path = resolve(text(where, v));
  if (!existsSync(path)) throw new ConfigError(`${where}: no such file ${path}`);
  if (!statSync(path).isFile()) throw new ConfigError(`${where}: ${path} is not a file`);
  return path;
};

export const ETCD_ACCESS_KEYS = {
  etcdCaFile: row<string | null>({
    section: 'master', key: 'etcd_ca_file', default: null, check: readableFile,
    doc: [
      'TLS to etcd (https:// endpoints; docs/security.md, "etcd"): the PEM CA that signed the',
      "etcd members' certificates; unset: the system's CAs.",
    ],
    summary: "PEM CA of the etcd members' certificates (https:// endpoints)",
    shown: "unset: the system's CAs",
    example: '"/etc/gfs/etcd/ca.pem"',
  }),
  etcdCertFile: row<string | null>({
    section: 'master', key: 'etcd_cert_file', default: null, check: readableFile,
    doc: ['Client certificate (PEM) for etcd started with --client-cert-auth; needs etcd_key_file.'],
    summary: 'client certificate (PEM) the master shows etcd',
    shown: 'unset: none',
    example: '"/etc/gfs/etcd/master.pem"',
  }),
  etcdKeyFile: row<string | null>({
    section: 'master', key: 'etcd_key_file', default: null, check: readableFile,
    doc: ['Its private key (PEM).'],
    summary: 'private key (PEM) of etcd_cert_file',
    shown: 'unset: none',
    example: '"/etc/gfs/etcd/master.key"',
  }),
  etcdUsername: row<string | null>({
    section: 'master', key: 'etcd_username', default: null, check: text,
    doc: ["etcd user (etcd's auth enabled); needs etcd_password_file."],
    summary: 'etcd user, when etcd has auth enabled',
    shown: 'unset: no etcd auth',
    example: '"gfs"',
  }),
  etcdPasswordFile: row<string | null>({
    section: 'master', key: 'etcd_password_file', default: null, check: readableFile,
    doc: [
      "A file holding that user's password (one trailing newline dropped). A file, not a key,",
      'so the secret stays out of a config that is shared, checked in or printed, and can be',
      'readable by the master alone (mode 600, or a mounted secret).',
    ],
    summary: "file holding etcd_username's password (kept out of the TOML)",
    shown: 'unset: no etcd auth',
    example: '"/etc/gfs/etcd/password"',
  }),
} satisfies Rows;
