import type { FileSummary } from './cluster-view.js';

// A page of a folder holds at most this many entries: a folder of 100,000 files is read a
// page at a time, and only the page's files have their chunks' health worked out.
export const MAX_PAGE_ENTRIES = 1000;
export const DEFAULT_PAGE_ENTRIES = 100;

export interface FolderEntry {
  kind: 'folder';
  /** The folder's name within its parent, without slashes. */
  name: string;
  /** Its path, ending in `/`: what `/api/folder?path=` takes to open it. */
  path: string;
  /** Files anywhere below it. */
  files: number;
}

export type FileEntry = { kind: 'file'; name: string } & FileSummary;

export interface FolderPage {
  path: string;
  /** Entries in the folder (matching `match`, when given): folders first, each kind sorted by name. */
  total: number;
  offset: number;
  limit: number;
  entries: Array<FolderEntry | FileEntry>;
}

export interface FolderQuery {
  /** A folder path ending in `/`; `/` is the root. */
  readonly path: string;
  readonly offset: number;
  readonly limit: number;
  /** Keeps only entries whose name contains this (as typed; empty: all). */
  readonly match: string;
}

/**
 * One page of a folder of the namespace, which is flat: a folder is what the paths below it
 * share. At the root, names without a leading `/` (the reference accepted any string) are
 * listed as files under their whole name, so nothing stored is out of reach.
 */
export function folderPage(paths: readonly string[], q: FolderQuery, summarize: (paths: string[]) => FileSummary[]): FolderPage {
  const folders = new Map<string, number>();
  const files: string[] = [];
  const atRoot = q.path === '/';
  for (const p of paths) {
    let rest: string;
    if (p.startsWith(q.path)) rest = p.slice(q.path.length);
    else if (atRoot && !p.startsWith('/')) rest = p.replaceAll('/', '\u2215');
    else continue;
    const slash = rest.indexOf('/');
    if (slash < 0) {
      if (rest.includes(q.match)) files.push(p);
    } else {
      const name = rest.slice(0, slash);
      if (name.includes(q.match)) folders.set(name, (folders.get(name) ?? 0) + 1);
    }
  }
  const folderNames = [...folders.keys()].sort();
  files.sort();
  const total = folderNames.length + files.length;
  const end = Math.min(total, q.offset + q.limit);
  const entries: Array<FolderEntry | FileEntry> = [];
  for (let i = q.offset; i < Math.min(end, folderNames.length); i++) {
    const name = folderNames[i]!;
    entries.push({ kind: 'folder', name, path: `${q.path}${name}/`, files: folders.get(name)! });
  }
  const pageFiles = files.slice(Math.max(0, q.offset - folderNames.length), Math.max(0, end - folderNames.length));
  for (const f of summarize(pageFiles)) entries.push({ kind: 'file', name: f.path.startsWith(q.path) ? f.path.slice(q.path.length) : f.path, ...f });
  return { path: q.path, total, offset: q.offset, limit: q.limit, entries };
}
