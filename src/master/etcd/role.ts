import type { LeadershipInfo } from '../commands/context.js';

/** A master's part in its cluster, as master_status answers it and the console shows it. */
export interface MasterRole {
  /** `single` without etcd; else `leader` or `standby`. */
  readonly role: 'single' | 'leader' | 'standby';
  /** The leader this master knows, "host:port"; null without etcd or during an election. */
  readonly leader: string | null;
  /** ms since the epoch when this master began to lead; null unless it leads. */
  readonly since: number | null;
}

export function roleOf(leadership: LeadershipInfo | null | undefined): MasterRole {
  if (!leadership) return { role: 'single', leader: null, since: null };
  const leading = leadership.isLeader();
  return { role: leading ? 'leader' : 'standby', leader: leadership.leader(), since: leading ? leadership.since() : null };
}
