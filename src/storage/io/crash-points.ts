// Named steps where a test can have the process die as if by power cut or kill -9:
// CHUNKSERVER_CRASH_AT=<name> sends this process SIGKILL when it reaches that step (as
// etcd's failpoints do). Read once, at load; unset in production, where each call is one
// string comparison. The names are listed in protocol/PROTOCOL.md section 6.
const armed = process.env.CHUNKSERVER_CRASH_AT ?? '';

export type CrashPoint =
  | 'store.data-synced'
  | 'store.renamed'
  | 'store.committed'
  | 'store.log-queued'
  | 'store.logged'
  | 'store.installed'
  | 'store.published'
  | 'store.old-removed'
  | 'append.written'
  | 'append.synced'
  | 'append.committed'
  | 'redo.logged'
  | 'redo.written'
  | 'redo.committed'
  | 'replay.written'
  | 'replay.wal-applied'
  | 'wal.written'
  | 'wal.synced'
  | 'wal.checkpoint-synced'
  | 'wal.checkpointed'
  | 'prepare.data-synced'
  | 'commit.installed'
  | 'delete.unlinked';

export function crashPoint(name: CrashPoint): void {
  if (armed === name) process.kill(process.pid, 'SIGKILL');
}
