// What each command needs, by server (protocol/PROTOCOL.md, "Authentication"):
//   member  only a cluster member's proof (when a cluster key is set)
//   write   a member's or a client's proof under client_auth = "writes" or "all"
//   read    the same under client_auth = "all"
export type Access = 'member' | 'write' | 'read';

type Fields = Record<string, unknown>;

const CHUNK_WRITES: ReadonlySet<string> = new Set([
  'store_chunk', 'delete_chunk', 'prepare_chunk', 'commit_chunk', 'rollback_chunk',
  'append_chunk', 'prepare_append', 'commit_append', 'rollback_append', 'replicate_chunk',
]);

/** As the reference reads the flag: anything truthy but an empty list (wire/validate.ts isReplicaFlag). */
function replicaFlag(f: Fields): boolean {
  const v = f.replica_servers;
  if (v === undefined || v === null || v === false) return false;
  return !(Array.isArray(v) && v.length === 0);
}

export function chunkServerAccess(f: Fields): Access {
  const command = f.command;
  if (typeof command !== 'string') return 'read';
  // A replica store or append comes from a primary or the master; a chain hop past the
  // first link from the link before it.
  if ((command === 'store_chunk' || command === 'append_chunk') && replicaFlag(f)) return 'member';
  if (command === 'replicate_chunk' && typeof f.current_replica === 'number' && f.current_replica > 0) return 'member';
  return CHUNK_WRITES.has(command) ? 'write' : 'read';
}

const MASTER_MEMBER: ReadonlySet<string> = new Set(['register_chunk_server', 'heartbeat']);
const MASTER_WRITES: ReadonlySet<string> = new Set([
  'add_file', 'update_file_metadata', 'update_chunk_offset', 'delete_file', 'decommission_server',
]);

export function masterAccess(f: Fields): Access {
  const command = f.command;
  if (typeof command !== 'string') return 'read';
  if (MASTER_MEMBER.has(command)) return 'member';
  return MASTER_WRITES.has(command) ? 'write' : 'read';
}

/** The address a member message claims to come from, which its proof must name. */
export function claimedSender(f: Fields): string | undefined {
  return MASTER_MEMBER.has(f.command as string) && typeof f.address === 'string' ? f.address : undefined;
}
