// Reads an `strace -f -yy` log of a server and answers, for one client connection, whether
// everything the server changed on disk under a directory was durable before it replied.
// Written against syscalls and paths, not against our storage code: any engine passes
// (temp file + rename, appends in place, an lmdb commit) that really flushes what it wrote.
import { execFileSync } from 'node:child_process';
import { dirname, isAbsolute, join } from 'node:path';

/** Whether strace runs here (.ci/run installs it); tests that need it skip, saying so, without. */
export function hasStrace(): boolean {
  try {
    execFileSync('strace', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The skip option of a test that needs strace. */
export const NEEDS_STRACE = { skip: hasStrace() ? false : 'strace is not installed (.ci/run installs it)' } as const;

/** A spawn wrapper that traces `syscalls` of the process and its threads into `file` (paths shown, signals not). */
export function straceWrapper(file: string, syscalls: string): string[] {
  return ['strace', '-f', '-qq', '-yy', '-e', 'signal=none', '-e', `trace=${syscalls}`, '-o', file];
}

/** What strace must record for `durabilityFindings` (pass to `strace -e trace=`). */
export const TRACED_SYSCALLS = [
  'open', 'openat', 'creat', 'close', 'accept', 'accept4',
  'write', 'writev', 'pwrite64', 'pwritev', 'pwritev2', 'sendmsg', 'sendto', 'sendmmsg',
  'ftruncate', 'fallocate', 'copy_file_range', 'ioctl',
  'rename', 'renameat', 'renameat2', 'link', 'linkat', 'unlink', 'unlinkat', 'mkdir', 'mkdirat',
  'fsync', 'fdatasync', 'sync', 'syncfs', 'msync',
].join(',');

interface Call {
  readonly name: string;
  readonly args: string;
  readonly ret: string;
  /** Line of the call's entry, and of its completion (the same unless it was interrupted by another thread's line). */
  readonly start: number;
  readonly end: number;
}

/** Parses strace's lines (`tid name(args) = ret`, with `<unfinished ...>` / `<... name resumed>` pairs). */
export function parseTrace(text: string): Call[] {
  const calls: Call[] = [];
  const open = new Map<string, { text: string; start: number }>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\d+)\s+(.*)$/.exec(lines[i]!);
    if (!m) continue;
    const [, tid, rest] = m as unknown as [string, string, string];
    if (rest.startsWith('---') || rest.startsWith('+++')) continue;
    let body: string;
    let start = i;
    if (rest.endsWith('<unfinished ...>')) {
      open.set(tid, { text: rest.slice(0, -'<unfinished ...>'.length).trimEnd(), start: i });
      continue;
    }
    const resumed = /^<\.\.\. \w+ resumed>\s?(.*)$/.exec(rest);
    if (resumed) {
      const first = open.get(tid);
      if (!first) continue;
      open.delete(tid);
      body = first.text + resumed[1];
      start = first.start;
    } else body = rest;
    const c = /^(\w+)\((.*)\)\s+=\s+(.*)$/s.exec(body);
    if (c) calls.push({ name: c[1]!, args: c[2]!, ret: c[3]!, start, end: i });
  }
  return calls;
}

/** `23</a/b>` decorations in order: fd numbers and the paths strace resolved for them. */
function fds(s: string): Array<{ fd: number; path: string }> {
  const out: Array<{ fd: number; path: string }> = [];
  const re = /(\d+)<(.+?)>(?=,|\)|$|\s)/g;
  for (let m = re.exec(s); m; m = re.exec(s)) out.push({ fd: Number(m[1]), path: m[2]! });
  return out;
}

function quoted(s: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"/g;
  for (let m = re.exec(s); m; m = re.exec(s)) out.push(m[1]!);
  return out;
}

function ok(c: Call): boolean {
  return !c.ret.startsWith('-1');
}

/** Path arguments of *at calls, made absolute against the decorated directory fd before them. */
function atPaths(c: Call): string[] {
  const dirs = fds(c.args).map((d) => d.path);
  return quoted(c.args).map((p, i) => (isAbsolute(p) ? p : join(dirs[i] ?? dirs[0] ?? '/', p)));
}

export interface Finding {
  /** Files written and not flushed when the reply went out, and directories whose entries changed unflushed. */
  readonly unsyncedFiles: string[];
  readonly unsyncedDirs: string[];
  /** Whether anything under the directory was written and flushed between accept and reply (a reply with no disk work is suspect too). */
  readonly sawDurableWrite: boolean;
  readonly replied: boolean;
  /**
   * Files left unflushed whose change a write-ahead log record, written after it and flushed
   * before the reply, makes durable (under the name a later rename gave them: a logged store).
   */
  readonly loggedFiles: string[];
}

// lmdb's lock file holds its reader table, never data: it is rebuilt on open by design.
const NOT_DATA = /(^|\/)lock\.mdb$/;

/**
 * Replays the trace up to the first reply on the connection from `clientPort` and reports
 * what the server changed under `root` since it accepted that connection and had not made
 * durable: a file counts as flushed by an fsync/fdatasync (or sync/syncfs) that began after
 * the file's last change and ended before the reply began, or by being written through an
 * O_DSYNC/O_SYNC descriptor; a directory whose entry was created, renamed or made (a new
 * file, a rename from or into it, a mkdir) must be flushed likewise. Files written and then
 * removed before the reply need nothing.
 */
export function durabilityFindings(calls: Call[], root: string, clientPort: number, log?: RegExp): Finding {
  const conn = `->127.0.0.1:${clientPort}]`;
  const accepted = calls.find((c) => (c.name === 'accept4' || c.name === 'accept') && c.ret.includes(conn));
  const reply = calls.find((c) => /^(write|writev|sendmsg|sendto|sendmmsg)$/.test(c.name) && fds(c.args)[0]?.path.includes(conn));
  if (!accepted || !reply) return { unsyncedFiles: [], unsyncedDirs: [], sawDurableWrite: false, replied: false, loggedFiles: [] };

  const under = (p: string): boolean => (p === root || p.startsWith(`${root}/`)) && !NOT_DATA.test(p);
  const dsync = new Set<number>();
  /** path -> line of its last unflushed change (data for files, entries for directories). */
  const dirtyFiles = new Map<string, number>();
  const dirtyDirs = new Map<string, number>();
  const logged = new Set<string>();
  let sawWrite = false;
  let sawSync = false;

  // Every call's effect counts at its completion; a flush covers changes completed before it began.
  const byEnd = calls.filter((c) => c.end < reply.start).sort((a, b) => a.end - b.end);
  const touchDir = (d: string, at: number): void => {
    if (under(d)) dirtyDirs.set(d, at);
  };
  const flush = (map: Map<string, number>, path: string | null, began: number): void => {
    for (const [p, at] of map) if ((path === null || p === path) && at < began) map.delete(p);
  };
  for (const c of byEnd) {
    if (!ok(c)) continue;
    const f = fds(c.args);
    switch (c.name) {
      case 'open':
      case 'openat':
      case 'creat': {
        const r = fds(c.ret)[0];
        if (!r) break;
        if (/O_DSYNC|O_SYNC/.test(c.args)) dsync.add(r.fd);
        else dsync.delete(r.fd);
        if ((c.name === 'creat' || /O_CREAT/.test(c.args)) && under(r.path)) touchDir(dirname(r.path), c.end);
        break;
      }
      case 'close':
        if (f[0]) dsync.delete(f[0].fd);
        break;
      case 'write':
      case 'writev':
      case 'pwrite64':
      case 'pwritev':
      case 'pwritev2':
      case 'ftruncate':
      case 'fallocate':
      case 'ioctl': {
        const target = f[0];
        if (!target || !under(target.path)) break;
        if (c.name === 'ioctl' && !/FICLONE/.test(c.args)) break;
        if (c.start > accepted.start) sawWrite = true;
        if (!dsync.has(target.fd)) dirtyFiles.set(target.path, c.end);
        break;
      }
      case 'copy_file_range': {
        const target = f[1];
        if (!target || !under(target.path)) break;
        if (c.start > accepted.start) sawWrite = true;
        if (!dsync.has(target.fd)) dirtyFiles.set(target.path, c.end);
        break;
      }
      case 'rename':
      case 'renameat':
      case 'renameat2':
      case 'link':
      case 'linkat': {
        const [from, to] = c.name === 'rename' || c.name === 'link' ? quoted(c.args) : atPaths(c);
        if (!from || !to) break;
        // A logged store's new file renamed into place after its record was flushed: replay
        // recreates file and name from that record, so neither needs a flush of its own.
        if (c.name.startsWith('rename') && logged.has(from) && !dirtyFiles.has(from)) {
          logged.delete(from);
          logged.add(to);
          break;
        }
        const pending = dirtyFiles.get(from);
        if (c.name.startsWith('rename')) {
          dirtyFiles.delete(from);
          touchDir(dirname(from), c.end);
        }
        if (pending !== undefined) dirtyFiles.set(to, pending);
        else dirtyFiles.delete(to);
        touchDir(dirname(to), c.end);
        if (c.start > accepted.start && under(to)) sawWrite = true;
        break;
      }
      case 'unlink':
      case 'unlinkat': {
        const [p] = c.name === 'unlink' ? quoted(c.args) : atPaths(c);
        if (p) dirtyFiles.delete(p);
        break;
      }
      case 'mkdir':
      case 'mkdirat': {
        const [p] = c.name === 'mkdir' ? quoted(c.args) : atPaths(c);
        if (p && under(p)) touchDir(dirname(p), c.end);
        break;
      }
      case 'fsync':
      case 'fdatasync': {
        const target = f[0];
        if (!target) break;
        if (c.start > accepted.start && under(target.path)) sawSync = true;
        // A log flush covers, through its record, the data changed before that record was written.
        const record = log?.test(target.path) ? dirtyFiles.get(target.path) : undefined;
        if (record !== undefined && record < c.start) {
          for (const [p, at] of dirtyFiles) {
            if (p === target.path || at >= record) continue;
            dirtyFiles.delete(p);
            if (at > accepted.start) logged.add(p);
          }
          // The new file's directory entry too, when the record holds the whole file (a store).
          for (const [d, at] of dirtyDirs) if (at < record && [...logged].some((p) => dirname(p) === d)) dirtyDirs.delete(d);
        }
        flush(dirtyFiles, target.path, c.start);
        flush(dirtyDirs, target.path, c.start);
        break;
      }
      case 'sync':
      case 'syncfs':
        if (c.start > accepted.start) sawSync = true;
        flush(dirtyFiles, null, c.start);
        flush(dirtyDirs, null, c.start);
        break;
      default:
        break;
    }
  }
  const since = (map: Map<string, number>): string[] => [...map].filter(([, at]) => at > accepted.start).map(([p]) => p).sort();
  return { unsyncedFiles: since(dirtyFiles), unsyncedDirs: since(dirtyDirs), sawDurableWrite: sawWrite && sawSync, replied: true, loggedFiles: [...logged].sort() };
}
