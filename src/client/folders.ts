// Whole folders: remove, upload and download every file under one, one file at a time, each
// file's outcome reported apart so one failure does not hide the rest. The namespace is flat
// (src/paths.ts): a remote folder is every path under `FOLDER/`.
import { lstat, mkdir, readdir, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { GfsError, type GfsErrorCode } from './errors.js';
import { joinPath, pathProblem } from '../paths.js';
import type { Listing } from './views.js';
import type { EncryptionKey } from './encryption.js';

/** One file's outcome: `error` null when it moved (or was removed). */
export interface FolderFileResult {
  readonly remote: string;
  /** The local file (put, get); absent for remove. */
  readonly local?: string;
  readonly size: number;
  readonly error: { readonly code: GfsErrorCode | 'internal'; readonly message: string } | null;
}

export interface FolderResult {
  readonly files: FolderFileResult[];
  /** Files that failed (their `error` says why). */
  readonly failed: number;
  /** Bytes of the files that moved. */
  readonly bytes: number;
}

type Progress = ((done: number, total: number | undefined) => void) | undefined;

/** What the folder operations need of a client; GfsClient has it (kept structural, so this module imports no client). */
export interface FileOps {
  list(folder: string, opts: { recursive: boolean }): Promise<Listing>;
  remove(remote: string): Promise<void>;
  put(local: string, remote: string, opts: { overwrite: boolean; minCopies?: number; encrypt?: EncryptionKey; onProgress?: Progress }): Promise<{ size: number }>;
  get(remote: string, local: string, opts: { decrypt?: EncryptionKey; onProgress?: Progress }): Promise<number>;
}

function failure(err: unknown): FolderFileResult['error'] {
  return err instanceof GfsError ? { code: err.code, message: err.message } : { code: 'internal', message: (err as Error)?.message ?? String(err) };
}

function result(files: FolderFileResult[]): FolderResult {
  let failed = 0;
  let bytes = 0;
  for (const f of files) {
    if (f.error) failed++;
    else bytes += f.size;
  }
  return { files, failed, bytes };
}

/** One progress figure over many files: bytes of the files done plus the current one's. */
function overall(total: number, onProgress: Progress): { file: Progress; finish(size: number): void } {
  let finished = 0;
  return {
    file: onProgress && ((done) => onProgress(finished + done, total)),
    finish(size) {
      finished += size;
      onProgress?.(finished, total);
    },
  };
}

/** Removes every file under `folder` (any depth); a folder that is itself a file removes that file. */
export async function removeFolder(ops: FileOps, folder: string): Promise<FolderResult> {
  const { files } = await ops.list(folder, { recursive: true });
  const out: FolderFileResult[] = [];
  for (const f of files) {
    try {
      await ops.remove(f.path);
      out.push({ remote: f.path, size: f.size, error: null });
    } catch (err) {
      out.push({ remote: f.path, size: f.size, error: failure(err) });
    }
  }
  return result(out);
}

/** The regular files below `dir`, relative paths with `/`, sorted; symbolic links are followed to files, never into folders. */
async function localFiles(dir: string): Promise<Array<{ rel: string; size: number }>> {
  const found: Array<{ rel: string; size: number }> = [];
  const walk = async (abs: string, rel: string): Promise<void> => {
    for (const e of await readdir(abs, { withFileTypes: true })) {
      const childAbs = join(abs, e.name);
      const childRel = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) await walk(childAbs, childRel);
      else if (e.isFile() || e.isSymbolicLink()) {
        const s = await stat(childAbs).catch(() => null);
        if (s?.isFile()) found.push({ rel: childRel, size: s.size });
      }
    }
  };
  await walk(dir, '');
  return found.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

/**
 * Uploads every file below `localDir` to the same relative path under `remoteFolder` (a
 * folderOf result): `a/b.txt` goes to `REMOTE/a/b.txt`, as rsync copies a folder's contents.
 */
export async function putFolder(ops: FileOps, localDir: string, remoteFolder: string, opts: { overwrite: boolean; minCopies?: number; encrypt?: EncryptionKey; onProgress?: Progress }): Promise<FolderResult> {
  const s = await lstat(localDir).catch(() => null);
  if (!s?.isDirectory()) throw new GfsError('local_io', `cannot read ${localDir}: ${s ? 'not a directory' : 'no such directory'}`);
  let files: Array<{ rel: string; size: number }>;
  try {
    files = await localFiles(localDir);
  } catch (err) {
    throw new GfsError('local_io', `cannot read ${localDir}: ${(err as Error).message}`);
  }
  const progress = overall(files.reduce((n, f) => n + f.size, 0), opts.onProgress);
  const out: FolderFileResult[] = [];
  for (const f of files) {
    const remote = joinPath(remoteFolder, f.rel);
    const local = join(localDir, ...f.rel.split('/'));
    try {
      const r = await ops.put(local, remote, { overwrite: opts.overwrite, minCopies: opts.minCopies, encrypt: opts.encrypt, onProgress: progress.file });
      out.push({ remote, local, size: r.size, error: null });
    } catch (err) {
      out.push({ remote, local, size: f.size, error: failure(err) });
    }
    progress.finish(f.size);
  }
  return result(out);
}

/**
 * Downloads every file under `remoteFolder` (a folderOf result) to the same relative path
 * below `localDir`, making folders as needed. A name that breaks the path rule (stored before
 * it) could climb out of `localDir` with `..`: such files fail rather than being written.
 */
export async function getFolder(ops: FileOps, remoteFolder: string, localDir: string, opts: { decrypt?: EncryptionKey; onProgress?: Progress }): Promise<FolderResult> {
  const { files } = await ops.list(remoteFolder, { recursive: true });
  const root = resolve(localDir);
  const progress = overall(files.reduce((n, f) => n + f.size, 0), opts.onProgress);
  const out: FolderFileResult[] = [];
  for (const f of files) {
    const rel = remoteFolder === '/' ? f.path.slice(1) : f.path.slice(remoteFolder.length + 1);
    // A folder that is itself a file lists that file: it lands in localDir under its own name.
    const name = f.path === remoteFolder ? f.path.slice(f.path.lastIndexOf('/') + 1) : rel;
    const local = join(root, ...name.split('/'));
    try {
      const below = relative(root, local);
      if (pathProblem(f.path) !== null || below === '' || below.startsWith('..') || isAbsolute(below)) {
        throw new GfsError('bad_input', `${JSON.stringify(f.path)} is not a name that can be written below ${localDir} (${pathProblem(f.path) ?? 'outside it'})`);
      }
      try {
        await mkdir(join(local, '..'), { recursive: true });
      } catch (err) {
        throw new GfsError('local_io', `cannot make the folder for ${local}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      const size = await ops.get(f.path, local, { decrypt: opts.decrypt, onProgress: progress.file });
      out.push({ remote: f.path, local, size, error: null });
    } catch (err) {
      out.push({ remote: f.path, local, size: f.size, error: failure(err) });
    }
    progress.finish(f.size);
  }
  return result(out);
}
