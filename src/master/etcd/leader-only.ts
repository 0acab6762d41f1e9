import type { Reply } from '../../commands/define.js';
import { isMap } from '../../commands/shape.js';
import { NotLeaderError } from '../../errors.js';
import type { Leadership } from './leadership.js';

/**
 * Every command goes to the leader: a standby answers each one
 * `{status:'error', message:'not_leader', leader}` (protocol/PROTOCOL.md, "Several
 * masters"), reads too, since its lmdb may lag the journal; but master_status, which says
 * it is a standby.
 */
export function leaderOnly(leadership: Leadership, dispatch: (decoded: unknown) => Promise<Reply>): (decoded: unknown) => Promise<Reply> {
  return (decoded) => (leadership.isLeader() || (isMap(decoded) && decoded.command === 'master_status') ? dispatch(decoded) : Promise.resolve(new NotLeaderError(leadership.leader()).toReply()));
}
