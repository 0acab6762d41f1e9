// Chunk and transaction ids become file names, so only a conservative alphabet is allowed:
// no separators, no NUL, never '.' or '..', and never a leading dot (dot-names are ours:
// temp files and internal folders), 1 to 128 characters. Ids are also keys of msgpack maps
// that decode to objects (the master's chunk_locations and chunk_offsets), where msgpackr
// renames a `__proto__` key: that one id would not survive a round trip, so it is refused.
const SAFE_ID = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;

export function isSafeId(id: string): boolean {
  return SAFE_ID.test(id) && id !== '__proto__';
}
