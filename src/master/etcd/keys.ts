// The keys one cluster keeps in etcd, under [master] etcd_prefix (README, "Several masters").

/** Holds the leader's "host:port", bound to its lease: gone when the lease is. */
export function leaderKey(prefix: string): string {
  return `${prefix}/leader`;
}

export function journalPrefix(prefix: string): string {
  return `${prefix}/journal/`;
}

// Zero-padded so that key order is sequence order (a range read returns entries in turn).
const SEQ_DIGITS = 16;

export function journalKey(prefix: string, seq: number): string {
  return journalPrefix(prefix) + String(seq).padStart(SEQ_DIGITS, '0');
}

/** Which snapshot is whole, JSON `{seq, parts}`: written last, with the journal's compaction. */
export function snapshotKey(prefix: string): string {
  return `${prefix}/snapshot`;
}

export function snapshotPartsPrefix(prefix: string): string {
  return `${prefix}/snapshots/`;
}

/** The snapshot taken at journal entry `seq` is its parts `<prefix>/snapshots/<seq>/<part>`. */
export function snapshotDir(prefix: string, seq: number): string {
  return snapshotPartsPrefix(prefix) + String(seq).padStart(SEQ_DIGITS, '0') + '/';
}

export function snapshotPartKey(prefix: string, seq: number, part: number): string {
  return snapshotDir(prefix, seq) + String(part).padStart(SEQ_DIGITS, '0');
}
