import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { AccessPolicy } from '../commands/registry.js';
import type { RpcAuth } from '../net/rpc.js';
import type { SecuritySettings } from './settings.js';
import type { FrameDigest } from './frame-hasher.js';
import { Guard, type Reply } from './guard.js';
import { macMatches, MEMBER_PREFIX, PROOF_BYTES, splitProof, TRAILER_BYTES, TRAILER_HEAD } from './proof.js';
import { signedReply, signFrame, type Credential } from './signer.js';

type Dispatch = (decoded: unknown, digest?: FrameDigest) => Promise<Reply>;

/** The master's member id; chunk servers are `member:<address>`. */
export const MASTER_ID = `${MEMBER_PREFIX}master`;

export interface GuardedOptions {
  /** The server's command registry's (src/commands/registry.ts). */
  readonly policy: AccessPolicy;
  readonly log: Logger;
  /** Sign replies to members' requests as this member (the master: its replies carry instructions). */
  readonly signRepliesAs?: string;
}

/** A server's dispatch behind its guard; as it was when authentication is off. */
export function guarded(security: SecuritySettings | undefined, o: GuardedOptions, dispatch: Dispatch): Dispatch {
  if (security === undefined) return dispatch;
  const guard = new Guard({ security, policy: o.policy, log: o.log });
  const replyCred: Credential | null = o.signRepliesAs ? { id: o.signRepliesAs, key: security.clusterKeys[0]! } : null;
  return async (decoded, digest) => {
    const verdict = guard.check(decoded, digest);
    if ('refusal' in verdict) return verdict.refusal;
    const reply = await dispatch(decoded, digest);
    const who = verdict.who;
    return replyCred && who?.kind === 'member' ? signedReply(reply, replyCred, who.proof.nonce) : reply;
  };
}

/**
 * A member's outbound calls: every request signed as `member:<address>`, and every reply
 * from the master (`masterAddress`) taken only with the master's proof bound to the request:
 * heartbeat replies carry instructions (delete, copy) that nobody else may give.
 */
export function memberRpcAuth(security: SecuritySettings | undefined, selfId: string, masterAddress: string | null): RpcAuth | undefined {
  if (security === undefined) return undefined;
  const cred = { id: selfId, key: security.clusterKeys[0]! };
  const windowMs = security.replayWindowS * 1000;
  return {
    encode: (body) => signFrame(body, cred),
    checkReply(address, body, reply, requestProof) {
      if (address !== masterAddress) return null;
      const tail = body.subarray(body.length - TRAILER_BYTES);
      if (body.length < TRAILER_BYTES || !tail.subarray(0, TRAILER_HEAD.length).equals(TRAILER_HEAD) || reply.auth_id !== MASTER_ID) {
        return `reply carries no proof of the master${typeof reply.message === 'string' ? ` (it says ${reply.message})` : ''}`;
      }
      const auth = reply.auth;
      const proofBytes = tail.subarray(TRAILER_HEAD.length);
      if (!(auth instanceof Uint8Array) || !proofBytes.equals(auth)) return 'reply proof malformed';
      const proof = splitProof(proofBytes);
      if (!proof.nonce.equals(splitProof(requestProof.subarray(0, PROOF_BYTES)).nonce)) return 'reply answers another request';
      const digest = createHash('sha256').update(body.subarray(0, body.length - TRAILER_BYTES)).digest();
      if (!security.clusterKeys.some((key) => macMatches(key, MASTER_ID, proof, digest))) return 'reply proof does not verify';
      if (Math.abs(Date.now() - proof.tsMs) > windowMs) return 'reply proof expired';
      return null;
    },
  };
}
