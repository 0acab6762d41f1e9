// Every section and key either server reads from the shared TOML file, plus every key of
// the Python reference's own config file (which our servers must keep starting from, even
// where they have no use for the value). Anything else is a typo or a setting we do not
// have: refusing it at start-up beats running with, say, security silently off.
import { CHUNK_SERVER_KEYS } from './keys/chunk-server.js';
import { CLIENT_KEYS } from './keys/client.js';
import { MASTER_ENABLED, MASTER_KEYS } from './keys/master.js';
import { SECURITY_KEYS } from './keys/security.js';
import type { Row, Section } from './schema.js';

/** Every row, in the order of chunk_server.toml and docs/operating.md's table. */
export const ALL_ROWS: readonly Row<unknown>[] = [
  MASTER_KEYS.host,
  MASTER_KEYS.port,
  MASTER_KEYS.replicationFactor,
  MASTER_ENABLED,
  ...Object.values(MASTER_KEYS).slice(3),
  ...Object.values(CHUNK_SERVER_KEYS),
  ...Object.values(SECURITY_KEYS),
  ...Object.values(CLIENT_KEYS),
];

/** Keys of the reference's own file that we accept and ignore. */
const REFERENCE_ONLY: Readonly<Record<Section, readonly string[]>> = {
  master: ['chunk_size'],
  chunk_server: ['base_port'],
  client: ['download_chunk_size', 'heartbeat_interval', 'master_host', 'master_port', 'timeout'],
  security: [],
};

// Sections in the order the "unknown section" message lists them.
const SECTIONS: readonly Section[] = ['master', 'chunk_server', 'client', 'security'];

export const KNOWN_KEYS: Readonly<Record<string, readonly string[]>> = Object.fromEntries(
  SECTIONS.map((s) => [s, [...ALL_ROWS.filter((r) => r.section === s).map((r) => r.key), ...REFERENCE_ONLY[s]]]),
);

const RENAMED = (to: string): string => `renamed: ${to} (docs/security.md, "TLS")`;
const NEVER_USED = 'removed: the master never used it; delete the line';

// Keys people look for, or kept from older files, that we do not have: a pointer instead of a bare "unknown key".
const EXPLAINED: Readonly<Record<string, string>> = {
  'security.tls_cert': RENAMED('tls_cert_file'),
  'security.tls_key': RENAMED('tls_key_file'),
  'security.tls_ca': RENAMED('tls_ca_file'),
  'master.connect_timeout_s': NEVER_USED,
  'master.peer_timeout_s': NEVER_USED,
};

/** What is wrong with a parsed file's sections and keys (the first unknown one), or null. */
export function unknownKeyProblem(file: Record<string, unknown>): string | null {
  for (const [section, value] of Object.entries(file)) {
    const keys = Object.hasOwn(KNOWN_KEYS, section) ? KNOWN_KEYS[section] : undefined;
    if (keys === undefined) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return `unknown top-level key ${section}`;
      return `unknown section [${section}] (known: ${Object.keys(KNOWN_KEYS).map((s) => `[${s}]`).join(', ')})`;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) continue;
    for (const key of Object.keys(value)) {
      const why = EXPLAINED[`${section}.${key}`];
      if (why !== undefined) return `[${section}] ${key}: ${why}`;
      if (!keys.includes(key)) return `unknown key ${key} in [${section}]`;
    }
  }
  return null;
}
