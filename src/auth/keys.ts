import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

// A key file holds one secret per line (blank lines and # comments aside), e.g. the 64 hex
// characters of `openssl rand -hex 32`. The first line signs; every line verifies, so a key is
// rotated without a flag day: add the new one second everywhere, then first, then drop the old.
export const MIN_KEY_CHARS = 32;

/** A client id names its key file, `<client_keys_dir>/<id>.key`, so it is kept to safe file-name characters. */
export const CLIENT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The secrets of a key file's text; throws with the reason when there are none or one is too short. */
export function parseKeys(text: string): Buffer[] {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  if (lines.length === 0) throw new Error('holds no key');
  for (const line of lines) {
    if (line.length < MIN_KEY_CHARS) throw new Error(`holds a key of ${line.length} characters; at least ${MIN_KEY_CHARS} are needed (openssl rand -hex 32)`);
  }
  return lines.map((l) => Buffer.from(l, 'utf8'));
}

export function readKeyFile(path: string): Buffer[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read key file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return parseKeys(text);
  } catch (err) {
    throw new Error(`key file ${path} ${(err as Error).message}`);
  }
}

interface Cached {
  readonly mtimeMs: number;
  readonly size: number;
  readonly ino: number;
  readonly keys: Buffer[] | null;
}

/**
 * Per-client keys from a directory, looked at on every use: a file removed (or emptied)
 * revokes its client at once, a file added enables one, no restart. A stat per request;
 * the file is read again only when it changed.
 */
export class ClientKeys {
  private readonly cache = new Map<string, Cached>();

  constructor(readonly dir: string) {}

  /** The client's keys; null when it has none (unknown, revoked, or an unusable file). */
  get(clientId: string): Buffer[] | null {
    if (!CLIENT_ID.test(clientId)) return null;
    const path = join(this.dir, `${clientId}.key`);
    let st;
    try {
      st = statSync(path);
    } catch {
      this.cache.delete(clientId);
      return null;
    }
    const hit = this.cache.get(clientId);
    if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size && hit.ino === st.ino) return hit.keys;
    let keys: Buffer[] | null;
    try {
      keys = parseKeys(readFileSync(path, 'utf8'));
    } catch {
      keys = null;
    }
    this.cache.set(clientId, { mtimeMs: st.mtimeMs, size: st.size, ino: st.ino, keys });
    return keys;
  }
}
