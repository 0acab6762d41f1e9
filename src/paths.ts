// The one rule for names in the namespace (protocol/PROTOCOL.md, "Paths"), imported by the
// master (the path field of commands that create names) and by the client library (before
// it sends anything). Names stored before the rule, and those the reference's clients
// create through update_file_metadata, stay readable and deletable: only new names are held
// to it.

/** A path's bound in UTF-8 bytes; lmdb refuses keys near 2 KB (field notes). */
export const MAX_PATH_BYTES = 1024;

/** Why a path breaks the rule, as the stable detail of `invalid_path: <why>`; null when it keeps it. */
export function pathProblem(path: string): string | null {
  if (path.length === 0) return 'empty';
  if (Buffer.byteLength(path, 'utf8') > MAX_PATH_BYTES) return `longer than ${MAX_PATH_BYTES} bytes`;
  if (!path.startsWith('/')) return 'not absolute';
  if (path === '/') return 'the root is a folder';
  if (path.includes('\0')) return 'NUL character';
  if (path.endsWith('/')) return 'trailing slash';
  const segments = path.slice(1).split('/');
  if (segments.includes('')) return 'empty segment';
  if (segments.some((s) => s === '.' || s === '..')) return '. or .. segment';
  return null;
}

/** Why a folder as a user names it (`/media` or `/media/`; `/` the root) breaks the rule; null when it keeps it. */
export function folderProblem(arg: string): string | null {
  return arg === '/' ? null : pathProblem(arg.endsWith('/') ? arg.slice(0, -1) : arg);
}

/** The folder in the rule's form, without the trailing slash (the root stays `/`); null when it breaks the rule. */
export function folderOf(arg: string): string | null {
  if (folderProblem(arg) !== null) return null;
  return arg === '/' ? '/' : arg.endsWith('/') ? arg.slice(0, -1) : arg;
}

/** Whether `path` lies in `folder` (a folderOf result) at any depth. */
export function isUnder(path: string, folder: string): boolean {
  return folder === '/' ? path.startsWith('/') : path.startsWith(folder + '/');
}

/** The last segment of a rule-keeping path. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** `folder` joined with a relative name of segments separated by `/`. */
export function joinPath(folder: string, rel: string): string {
  return folder === '/' ? `/${rel}` : `${folder}/${rel}`;
}
