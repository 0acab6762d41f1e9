import type { Reply } from '../../commands/define.js';
import { NotLeaderError } from '../../errors.js';
import type { Leadership } from './leadership.js';

/**
 * Every command goes to the leader: a standby answers each one
 * `{status:'error', message:'not_leader', leader}` (protocol/PROTOCOL.md, "Several
 * masters"), reads too, since its lmdb may lag the journal.
 */
export function leaderOnly(leadership: Leadership, dispatch: (decoded: unknown) => Promise<Reply>): (decoded: unknown) => Promise<Reply> {
  return (decoded) => (leadership.isLeader() ? dispatch(decoded) : Promise.resolve(new NotLeaderError(leadership.leader()).toReply()));
}
