/** What the master records of a chunk itself, whatever file lists it. */
export interface ChunkRecord {
  /** Committed length: the chunk's true end. */
  length: number;
  /** Version of the last mutation the master heard of; 0 when no chunk server told one. */
  version: number;
}

/** A decommission the master was asked for and has not finished (kept across restarts). */
export interface DecommissionRecord {
  /** ms when decommission_server was accepted. */
  since: number;
}

/** A chunk server the master has known (the cluster remembers its members; kept across restarts). */
export interface MemberRecord {
  location: [number, number];
  /** ms of its last heartbeat the master recorded (at registration, now and then while live, and when it fell silent). */
  last_seen: number;
  /** Its space at that time, null when it never told. */
  space: { total: number; used: number } | null;
}
