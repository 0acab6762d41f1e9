// put -r, get -r and rm -r: one line per file that failed (stderr), one summary line, exit 1
// when any file failed (files_failed in --json, with every file's outcome).
import type { FolderResult } from '../../client/index.js';
import { humanBytes } from '../../units.js';
import type { Outcome } from './runner.js';

export function folderOutcome(verb: 'put' | 'got' | 'removed', where: string, r: FolderResult, json: Record<string, unknown>): Outcome {
  for (const f of r.files) if (f.error) process.stderr.write(`gfs: ${f.remote}: ${f.error.message}\n`);
  const moved = r.files.length - r.failed;
  const size = verb === 'removed' ? '' : ` (${humanBytes(r.bytes)})`;
  const summary = `${verb} ${moved} of ${r.files.length} file${r.files.length === 1 ? '' : 's'}${size} ${verb === 'removed' ? 'under' : verb === 'put' ? 'to' : 'from'} ${where}`;
  const out = { ...json, files: r.files, failed: r.failed, bytes: r.bytes };
  if (r.failed === 0) return { json: out, text: `${summary}\n` };
  return { json: out, text: `${summary}, ${r.failed} failed\n`, failure: { code: 'files_failed', message: `${r.failed} of ${r.files.length} files failed` } };
}
