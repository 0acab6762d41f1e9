// [security]: authentication, read by both servers (src/config/security.ts resolves it).
import type { SecuritySettings } from '../../auth/settings.js';
import { mib, oneOf, seconds, text } from '../checks.js';
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
} satisfies Rows;
