import type { Logger } from 'pino';
import type { Access } from '../commands/define.js';
import type { AccessPolicy } from '../commands/registry.js';
import { AuthFailedError, AuthRequiredError, MemberRequiredError, RequestError, type AuthFailure } from '../errors.js';
import type { SecuritySettings } from './settings.js';
import type { FrameDigest } from './frame-hasher.js';
import { ClientKeys } from './keys.js';
import { macMatches, MEMBER_PREFIX, PROOF_BYTES, splitProof, type Proof } from './proof.js';
import { ReplayWindow } from './replay.js';

type Fields = Record<string, unknown>;
export type Reply = Record<string, unknown>;

export interface GuardOptions {
  readonly security: SecuritySettings;
  /** What a request needs, and the member it names as its sender: the server's command registry's. */
  readonly policy: AccessPolicy;
  readonly log: Logger;
}

/** Who a verified proof belongs to, and the proof (a reply to a member is bound to its nonce). */
export type Principal = { readonly kind: 'member' | 'client'; readonly id: string; readonly proof: Proof };

/** A refusal to send back, or who sent the request (null: no proof, none needed). */
export type Verdict = { readonly refusal: Reply } | { readonly who: Principal | null };

/**
 * The check in front of a server's dispatch: a request that needs a proof and has none, or
 * has a bad one, gets its documented refusal (logged at warn) and never reaches a handler.
 */
export class Guard {
  private readonly clientKeys: ClientKeys | null;
  private readonly window: ReplayWindow;

  constructor(private readonly opts: GuardOptions) {
    const { clientKeysDir, replayWindowS } = opts.security;
    this.clientKeys = clientKeysDir === null ? null : new ClientKeys(clientKeysDir);
    this.window = new ReplayWindow(replayWindowS * 1000);
  }

  check(decoded: unknown, digest: FrameDigest | undefined, nowMs = Date.now()): Verdict {
    // Not a map: dispatch answers bad_request without running anything.
    if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded) || Buffer.isBuffer(decoded)) return { who: null };
    const fields = decoded as Fields;
    const need = this.opts.policy.access(fields);
    try {
      const who = this.verify(fields, digest, nowMs);
      this.authorize(fields, need, who);
      return { who };
    } catch (err) {
      if (!(err instanceof RequestError)) throw err;
      this.opts.log.warn({ command: fields.command, auth_id: fields.auth_id, need, refusal: err.message }, 'request refused: authentication');
      return { refusal: err.toReply() };
    }
  }

  /** The proof's owner; null for a message without one (or one this server cannot check). */
  private verify(fields: Fields, digest: FrameDigest | undefined, nowMs: number): Principal | null {
    if (!Object.hasOwn(fields, 'auth') && !Object.hasOwn(fields, 'auth_id')) return null;
    const auth = fields.auth;
    const id = fields.auth_id;
    // The trailer the bytes ended in must be the `auth` the map holds: a proof anywhere else
    // would leave bytes after it unsigned.
    if (digest?.proof == null || typeof id !== 'string' || !(auth instanceof Uint8Array) || auth.length !== PROOF_BYTES || !digest.proof.equals(auth)) {
      throw new AuthFailedError('malformed');
    }
    const member = id.startsWith(MEMBER_PREFIX);
    let keys: readonly Buffer[] | null;
    if (member) keys = this.opts.security.clusterKeys;
    else if (this.clientKeys === null) return null;
    else keys = this.clientKeys.get(id);
    if (keys === null || keys.length === 0) throw new AuthFailedError('unknown_key');
    const proof = splitProof(digest.proof);
    if (!keys.some((key) => macMatches(key, id, proof, digest.digest))) throw new AuthFailedError('bad_signature');
    const stale: AuthFailure | null = this.window.admit(proof.mac, proof.tsMs, nowMs);
    if (stale !== null) throw new AuthFailedError(stale);
    return { kind: member ? 'member' : 'client', id, proof };
  }

  private authorize(fields: Fields, need: Access, who: Principal | null): void {
    const { clientAuth } = this.opts.security;
    if (need === 'member') {
      if (who?.kind !== 'member') throw new MemberRequiredError();
      const claimed = this.opts.policy.claimedSender(fields);
      if (claimed !== undefined && who.id !== MEMBER_PREFIX + claimed) throw new AuthFailedError('sender_mismatch');
      return;
    }
    if (who !== null) return;
    if ((need === 'write' && clientAuth !== 'off') || (need === 'read' && clientAuth === 'all')) throw new AuthRequiredError();
  }
}
