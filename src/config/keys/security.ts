// [security]: authentication, read by both servers (src/config/security.ts resolves it).
import type { SecuritySettings } from '../../auth/settings.js';
import { mib, nameList, oneOf, seconds, text } from '../checks.js';
import { row, type Rows } from '../schema.js';

export const SECURITY_KEYS = {
  clusterKeyFile: row<string | null>({
    section: 'security', key: 'cluster_key_file', default: null, check: text,
    doc: [
      'Authentication, off while cluster_key_file is unset (docs/security.md, "Securing a cluster").',
      'A file holding the secret shared by the master and its chunk servers (openssl rand -hex 32);',
      'several lines: the first signs, every one verifies (for rotation).',
    ],
    summary: 'secret shared by the master and its chunk servers; turns member authentication on (see "Securing a cluster")',
    shown: 'unset: off',
    example: '"/etc/gfs/cluster.key"',
  }),
  clientAuth: row<SecuritySettings['clientAuth']>({
    section: 'security', key: 'client_auth', default: 'off', check: oneOf(['off', 'writes', 'all']),
    doc: ['"off", "writes" (mutating commands need a client key) or "all" (every command does).'],
    summary: '`off`, `writes` or `all`: which client commands need a key',
  }),
  clientKeysDir: row<string | null>({
    section: 'security', key: 'client_keys_dir', default: null, check: text,
    doc: ['Directory of client keys, <client_id>.key each (needed unless client_auth = "off").'],
    summary: '`<client_id>.key` per client, re-read when changed',
    shown: 'unset',
    example: '"/etc/gfs/clients"',
  }),
  replayWindowS: row({
    section: 'security', key: 'replay_window_s', default: 60, check: seconds,
    doc: ["Seconds a proof's timestamp may be from this server's clock, either side."],
    summary: "a proof's timestamp may be this far from the receiver's clock, s",
  }),
  httpRead: row<SecuritySettings['httpRead']>({
    section: 'security', key: 'http_read', default: 'open', check: oneOf(['open', 'key']),
    doc: [
      'What the HTTP sides (/metrics, /healthz, the console\'s /api/) show to anyone: "open", or',
      '"key": a bearer token derived from the cluster key (docs/security.md, "The HTTP side").',
    ],
    summary: '`open` or `key`: whether `/metrics`, `/healthz` and `/api/` need a token from the cluster key (see "The HTTP side")',
    }),
  unverifiedMb: row({
    section: 'security', key: 'unverified_mb', default: 16, check: mib,
    doc: [
      'Under client_auth, large values of frames that did not name a known signer (auth_id) before',
      "them share this much memory, in MiB, and never the space limit; past it 'unverified_too_large'.",
    ],
    summary: 'memory for large values sent before a known `auth_id` (unsigned, or `auth_id` last), all connections; past it `unverified_too_large`, MiB',
  }),
  tls: row<'off' | 'members' | 'all'>({
    section: 'security', key: 'tls', default: 'off', check: oneOf(['off', 'members', 'all']),
    doc: [
      'TLS (docs/security.md, "TLS"): "off"; "members": links between the master and chunk servers',
      'use mutual TLS, clients may still speak plain TCP; "all": every port (the console and /metrics',
      'included) refuses plain TCP. Needs tls_cert_file, tls_key_file and tls_ca_file.',
    ],
    summary: '`off`, `members` (mutual TLS between members) or `all` (every port refuses plain TCP)',
  }),
  tlsCertFile: row<string | null>({
    section: 'security', key: 'tls_cert_file', default: null, check: text,
    doc: ["This process's certificate (PEM), signed by the cluster CA; re-read when it changes."],
    summary: "this process's certificate (PEM), re-read when changed",
    shown: 'unset',
    example: '"/etc/gfs/tls/cs1.pem"',
  }),
  tlsKeyFile: row<string | null>({
    section: 'security', key: 'tls_key_file', default: null, check: text,
    doc: ["The certificate's private key (PEM); re-read when it changes."],
    summary: "the certificate's private key (PEM)",
    shown: 'unset',
    example: '"/etc/gfs/tls/cs1.key"',
  }),
  tlsCaFile: row<string | null>({
    section: 'security', key: 'tls_ca_file', default: null, check: text,
    doc: ['The cluster CA (PEM): members and clients must present certificates it signed.'],
    summary: 'the cluster CA (PEM) that signs every certificate',
    shown: 'unset',
    example: '"/etc/gfs/tls/ca.pem"',
  }),
  tlsAllowedNames: row<string[]>({
    section: 'security', key: 'tls_allowed_names', default: [], check: nameList,
    doc: [
      'Certificate common names (CN) that are members; empty: every certificate of the CA is one.',
      'A certificate of the CA with another name is a client, never a member.',
    ],
    summary: 'certificate names (CN) that are members; empty: any certificate of the CA',
    shown: '`[]`: any',
    example: '["master", "cs1", "cs2"]',
  }),
} satisfies Rows;
