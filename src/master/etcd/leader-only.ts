import type { Reply } from '../../commands/define.js';
import { isMap } from '../../commands/shape.js';
import { NotLeaderError } from '../../errors.js';
import { followsLeader } from '../../net/follow-leader.js';
import type { LeaderProxy } from './leader-proxy.js';
import type { Leadership } from './leadership.js';

export interface StandbyForwarding {
  readonly proxy: LeaderProxy;
  /** Whether a request is a member's (chunk servers follow not_leader; they are never proxied). */
  readonly memberOnly: (decoded: unknown) => boolean;
}

/**
 * Every command goes to the leader: a standby serves none, reads neither, since its lmdb may
 * lag the journal; but master_status, which says it is a standby. A sender that follows
 * not_leader (the follows_leader field) is answered `{status:'error', message:'not_leader',
 * leader}` (protocol/PROTOCOL.md, "Several masters"); any other client's request is proxied
 * to the leader, when there is one and `forwarding` is given, so the reference's client
 * pointed at a standby keeps working.
 */
export function leaderOnly(leadership: Leadership, dispatch: (decoded: unknown) => Promise<Reply>, forwarding?: StandbyForwarding): (decoded: unknown) => Promise<Reply> {
  return (decoded) => {
    if (leadership.isLeader() || (isMap(decoded) && decoded.command === 'master_status')) return dispatch(decoded);
    const leader = leadership.leader();
    if (forwarding && leader !== null && isMap(decoded) && !followsLeader(decoded) && !forwarding.memberOnly(decoded)) return forwarding.proxy.forward(leader, decoded);
    return Promise.resolve(new NotLeaderError(leader).toReply());
  };
}
