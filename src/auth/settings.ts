import { resolve } from 'node:path';
import { ConfigError, num, positive, table, text, type SecuritySettings, type Table } from '../config/config.js';
import { readKeyFile } from './keys.js';

const CLIENT_AUTH = ['off', 'writes', 'all'] as const;
export const DEFAULT_REPLAY_WINDOW_S = 60;

/**
 * [security] of the shared TOML file, with the cluster key read now (a missing or weak key
 * stops the server at start-up). undefined: no cluster_key_file, authentication off.
 */
export function resolveSecurity(file: Table): SecuritySettings | undefined {
  const s = table(file, 'security');
  const clientAuth = s.client_auth ?? 'off';
  if (typeof clientAuth !== 'string' || !(CLIENT_AUTH as readonly string[]).includes(clientAuth)) {
    throw new ConfigError(`[security] client_auth must be one of ${CLIENT_AUTH.join(', ')}, got ${JSON.stringify(clientAuth)}`);
  }
  const replayWindowS = num('[security] replay_window_s', s.replay_window_s ?? DEFAULT_REPLAY_WINDOW_S, positive, 'a positive number of seconds');
  const clientKeysDir = s.client_keys_dir === undefined ? null : resolve(text('[security] client_keys_dir', s.client_keys_dir));
  if (s.cluster_key_file === undefined) {
    // Client credentials are checked by servers that also know each other: a primary's replica
    // stores must carry a member's proof, or client_auth would refuse them.
    if (clientAuth !== 'off') throw new ConfigError('[security] client_auth needs cluster_key_file');
    return undefined;
  }
  if (clientAuth !== 'off' && clientKeysDir === null) throw new ConfigError(`[security] client_auth = "${clientAuth}" needs client_keys_dir`);
  let clusterKeys: Buffer[];
  try {
    clusterKeys = readKeyFile(text('[security] cluster_key_file', s.cluster_key_file));
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`[security] cluster_key_file: ${(err as Error).message}`);
  }
  return { clusterKeys, clientAuth: clientAuth as SecuritySettings['clientAuth'], clientKeysDir: clientAuth === 'off' ? null : clientKeysDir, replayWindowS };
}
