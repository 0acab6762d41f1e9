import { resolve } from 'node:path';
import { readKeyFile } from '../auth/keys.js';
import type { SecuritySettings } from '../auth/settings.js';
import { ConfigError, type Table } from './checks.js';
import { SECURITY_KEYS as S } from './keys/security.js';
import { read, where } from './schema.js';

/**
 * [security] of the shared TOML file, with the cluster key read now (a missing or weak key
 * stops the server at start-up). undefined: no cluster_key_file, authentication off.
 */
export function resolveSecurity(file: Table): SecuritySettings | undefined {
  const src = { file };
  const clientAuth = read(S.clientAuth, src);
  const replayWindowS = read(S.replayWindowS, src);
  const unverifiedBytes = Math.floor(read(S.unverifiedMb, src) * 1024 * 1024);
  const keysDir = read(S.clientKeysDir, src);
  const clientKeysDir = keysDir === null ? null : resolve(keysDir);
  const keyFile = read(S.clusterKeyFile, src);
  const httpRead = read(S.httpRead, src);
  if (keyFile === null) {
    // The read token is derived from the cluster key.
    if (httpRead !== 'open') throw new ConfigError('[security] http_read = "key" needs cluster_key_file');
    // Client credentials are checked by servers that also know each other: a primary's replica
    // stores must carry a member's proof, or client_auth would refuse them.
    if (clientAuth !== 'off') throw new ConfigError('[security] client_auth needs cluster_key_file');
    return undefined;
  }
  if (clientAuth !== 'off' && clientKeysDir === null) throw new ConfigError(`[security] client_auth = "${clientAuth}" needs client_keys_dir`);
  let clusterKeys: Buffer[];
  try {
    clusterKeys = readKeyFile(keyFile);
  } catch (err) {
    throw new ConfigError(`${where(S.clusterKeyFile)}: ${(err as Error).message}`);
  }
  return { clusterKeys, clientAuth, clientKeysDir: clientAuth === 'off' ? null : clientKeysDir, replayWindowS, httpRead, unverifiedBytes };
}
