// What the library derives from the namespace without reading a byte of data: a file's
// checksum from its chunk list, and the sizes under a folder.
import { createHash } from 'node:crypto';
import { GfsError } from './errors.js';
import type { MasterApi } from './master-api.js';
import type { FileEntry } from './views.js';

export interface Checksum {
  readonly path: string;
  /** sha256 (hex) of one line `<chunk_id> <size>\n` per chunk, in the file's order. */
  readonly checksum: string;
  readonly size: number;
  readonly chunks: number;
}

/**
 * From the master's record alone: chunks stored by put are named by the sha256 of their
 * bytes, so equal checksums mean the same chunks in the same order, hence the same bytes.
 * It is no digest of the bytes themselves: the same bytes put with another chunk size give
 * another checksum, and nothing is read from a server to check the copies.
 */
export async function checksum(master: MasterApi, remote: string): Promise<Checksum> {
  const meta = await master.metadata(remote);
  if (!meta) throw new GfsError('file_not_found', `no such file: ${remote}`);
  const hash = createHash('sha256');
  for (const id of meta.chunk_ids) hash.update(`${id} ${Number(meta.chunk_offsets[id] ?? 0)}\n`);
  return { path: remote, checksum: hash.digest('hex'), size: meta.total_size, chunks: meta.chunk_ids.length };
}

export interface Usage {
  readonly path: string;
  readonly size: number;
  readonly files: number;
  readonly chunks: number;
}

/** The folder's total and one line per folder directly in it, from a recursive listing of it. */
export function usage(folder: string, files: readonly FileEntry[]): { total: Usage; folders: Usage[] } {
  const sub = new Map<string, { size: number; files: number; chunks: number }>();
  const total = { size: 0, files: 0, chunks: 0 };
  const prefix = folder === '/' ? '/' : `${folder}/`;
  for (const f of files) {
    total.size += f.size;
    total.files++;
    total.chunks += f.chunks;
    if (!f.path.startsWith(prefix)) continue;
    const rest = f.path.slice(prefix.length);
    const slash = rest.indexOf('/');
    if (slash < 0) continue;
    const name = prefix + rest.slice(0, slash);
    const u = sub.get(name) ?? { size: 0, files: 0, chunks: 0 };
    u.size += f.size;
    u.files++;
    u.chunks += f.chunks;
    sub.set(name, u);
  }
  return { total: { path: folder, ...total }, folders: [...sub].map(([path, u]) => ({ path, ...u })).sort((a, b) => (a.path < b.path ? -1 : 1)) };
}
