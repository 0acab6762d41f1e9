import { basename } from 'node:path';
import type { RpcAuth } from '../net/rpc.js';
import { CLIENT_ID, readKeyFile } from './keys.js';
import { signFrame, type Credential } from './signer.js';

/**
 * A client's credential from its key file (`--key_file`): the first key, as the client named
 * `clientId` or, by default, the file's name without `.key` (as the Python switch does).
 */
export function loadClientCredential(keyFile: string, clientId?: string): Credential {
  const id = clientId ?? basename(keyFile).replace(/\.key$/, '');
  if (!CLIENT_ID.test(id)) throw new Error(`client id ${JSON.stringify(id)} must be 1-64 of A-Z a-z 0-9 . _ - (not starting with . _ -)`);
  return { id, key: readKeyFile(keyFile)[0]! };
}

/** For an Rpc of a client: every request signed with `cred`; replies are taken as they come. */
export function clientRpcAuth(cred: Credential): RpcAuth {
  return { encode: (body) => signFrame(body, cred), checkReply: () => null };
}
