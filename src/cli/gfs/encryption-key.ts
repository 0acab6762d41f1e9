// Where put --encrypt and get --decrypt find their key: --encryption_key_file, else
// $GFS_ENCRYPTION_KEY_FILE, else a passphrase in $GFS_PASSPHRASE (never a flag: a flag's
// value shows in ps and in shell history).
import { GfsError, loadKeyFile, passphraseKey, type EncryptionKey } from '../../client/index.js';

export function encryptionKey(flags: { encryption_key_file?: string }, env: NodeJS.ProcessEnv, why: string): EncryptionKey {
  const file = flags.encryption_key_file ?? (env.GFS_ENCRYPTION_KEY_FILE || undefined);
  if (file !== undefined) return loadKeyFile(file);
  if (env.GFS_PASSPHRASE) return passphraseKey(env.GFS_PASSPHRASE);
  throw new GfsError('bad_input', `${why} needs a key: --encryption_key_file FILE (or $GFS_ENCRYPTION_KEY_FILE), or a passphrase in $GFS_PASSPHRASE`);
}
