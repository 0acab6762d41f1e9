// The request field by which a sender says it follows not_leader itself (protocol/PROTOCOL.md,
// section 9): a standby answers it not_leader; a request without it (the reference's
// clients) is proxied to the leader. In net/: the master, the client library and the
// chunk server's master client all use it, and none may import another's code.

/** Request field, `true` when the sender retries a not_leader reply at the leader named. */
export const FOLLOWS_LEADER = 'follows_leader';

/** `body` with the marker set. */
export function following<B extends Record<string, unknown>>(body: B): B & { follows_leader: true } {
  return { ...body, [FOLLOWS_LEADER]: true } as B & { follows_leader: true };
}

/** Whether a decoded request carries the marker. */
export function followsLeader(decoded: Record<string, unknown>): boolean {
  return decoded[FOLLOWS_LEADER] === true;
}
