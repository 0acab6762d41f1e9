import { readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { sameIdentity, type FileIdentity } from '../checksums/block-sums.js';
import { decodeSums } from '../checksums/sums-file.js';
import { META_DIR } from '../chunks/records.js';

// v1 kept each chunk's sums in `.meta/<id>.crc` (and temp files `.meta/.tmp-*`); read once
// at the upgrade, then removed.
const LEGACY_SUMS_SUFFIX = '.crc';
const LEGACY_TEMP_PREFIX = '.tmp-';

/** v1's sums of this very file, if it left any. */
export async function legacySums(dir: string, chunkId: string, identity: FileIdentity, size: number): Promise<Uint32Array | 'damaged' | null> {
  let raw: Buffer;
  try {
    raw = await readFile(join(dir, META_DIR, chunkId + LEGACY_SUMS_SUFFIX));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const decoded = decodeSums(raw);
  if (decoded.kind === 'damaged') return 'damaged';
  if (decoded.kind === 'stale' || !sameIdentity(decoded.sums.identity, identity) || decoded.sums.size !== size) return null;
  return decoded.sums.crcs;
}

/** Once the records are committed, v1's sums files are dead weight. */
export async function removeLegacyMeta(dir: string): Promise<void> {
  const meta = join(dir, META_DIR);
  const names = (await readdir(meta)).filter((n) => n.endsWith(LEGACY_SUMS_SUFFIX) || n.startsWith(LEGACY_TEMP_PREFIX));
  for (const name of names) await unlink(join(meta, name)).catch(() => undefined);
}
