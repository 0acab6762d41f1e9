// Where put --encrypt and get --decrypt find their key: --encryption_key_file, else
// $GFS_ENCRYPTION_KEY_FILE, else [client] encryption_key_file, else a passphrase in
// $GFS_PASSPHRASE (never a flag: a flag's value shows in ps and in shell history).
import { GfsError, loadKeyFile, passphraseKey, type EncryptionKey } from '../../client/index.js';
import { resolveSettings, type GfsFlags } from './config.js';

export function encryptionKey(flags: GfsFlags, env: NodeJS.ProcessEnv, why: string): EncryptionKey {
  const file = resolveSettings(flags, env).encryptionKeyFile;
  if (file !== undefined) return loadKeyFile(file);
  if (env.GFS_PASSPHRASE) return passphraseKey(env.GFS_PASSPHRASE);
  throw new GfsError('bad_input', `${why} needs a key: --encryption_key_file FILE (or $GFS_ENCRYPTION_KEY_FILE, or [client] encryption_key_file), or a passphrase in $GFS_PASSPHRASE`);
}
