import { execFileSync } from 'node:child_process';

/** What `du -B1 -s` says the directory holds on disk: blocks in use, directories included. */
export function duBytes(dir: string): number {
  return Number(execFileSync('du', ['-B1', '-s', dir], { encoding: 'utf8' }).split(/\s/)[0]);
}
