import type { Logger } from 'pino';
import type { SecuritySettings } from '../config.js';
import type { Piece } from '../wire/codec.js';
import type { FrameDigest } from './frame-hasher.js';
import { Guard, type Reply } from './guard.js';
import { claimedSender, type Access } from './policy.js';
import { MEMBER_PREFIX } from './proof.js';
import { signedFrame } from './signer.js';

type Dispatch = (decoded: unknown, digest?: FrameDigest) => Promise<Reply>;

/** A server's dispatch behind its guard; as it was when authentication is off. */
export function guarded(security: SecuritySettings | undefined, access: (f: Record<string, unknown>) => Access, log: Logger, dispatch: Dispatch): Dispatch {
  if (security === undefined) return dispatch;
  const guard = new Guard({ security, access, claimedSender, log });
  return async (decoded, digest) => guard.check(decoded, digest) ?? dispatch(decoded, digest);
}

/** How a member encodes its outbound calls: signed as `member:<address>` with the cluster key; undefined when off. */
export function memberEncoder(security: SecuritySettings | undefined, address: string): ((body: Reply) => Piece[]) | undefined {
  if (security === undefined) return undefined;
  const cred = { id: MEMBER_PREFIX + address, key: security.clusterKeys[0]! };
  return (body) => signedFrame(body, cred);
}
