import { randomBytes } from 'node:crypto';
import { isSafeId } from '../../safe-name.js';

// A large store writes its new version under `<chunk id>~<16 hex>` (issue 22 item 2): beside
// the version it replaces, never over it, so nothing is renamed and no reader sees a mix.
// `~` is outside the chunk id alphabet (safe-name.ts), so such a name is never a chunk id; the
// chunk id in front keeps the file findable by the chunk's name (ls, tests, an operator).
const TAG_SEPARATOR = '~';
const TAG = /^[0-9a-f]{16}$/;

/** A fresh name for a new version of `chunkId`. */
export function taggedName(chunkId: string): string {
  return `${chunkId}${TAG_SEPARATOR}${randomBytes(8).toString('hex')}`;
}

/** The chunk a tagged data file belongs to; null for any other name. */
export function chunkOfTagged(name: string): string | null {
  const at = name.lastIndexOf(TAG_SEPARATOR);
  if (at <= 0) return null;
  const chunkId = name.slice(0, at);
  return TAG.test(name.slice(at + 1)) && isSafeId(chunkId) ? chunkId : null;
}
