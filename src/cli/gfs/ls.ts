// gfs ls: a folder's files and folders, as ls shows a directory (the namespace is flat; a
// folder is every path under `folder/`).
import type { Command } from 'commander';
import type { Listing } from '../../client/index.js';
import { humanBytes } from '../../units.js';
import type { Run } from './runner.js';

interface LsFlags {
  long?: boolean;
  human?: boolean;
  recursive?: boolean;
}

/** Folders end in `/`; -l adds size (bytes, or -h units) and chunks, tab-separated for cut and awk. */
export function formatListing(listing: Listing, flags: LsFlags): string {
  const size = (n: number) => (flags.human ? humanBytes(n) : String(n));
  const rows = [
    ...listing.folders.map((path) => ({ path: `${path}/`, long: `-\t-\t${path}/` })),
    ...listing.files.map((f) => ({ path: f.path, long: `${size(f.size)}\t${f.chunks}\t${f.path}` })),
  ].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return rows.map((r) => `${flags.long ? r.long : r.path}\n`).join('');
}

export function addLs(program: Command, run: Run): void {
  program
    .command('ls')
    .description('list a folder: its files, and its folders ending in /')
    .helpOption('--help', 'display help for command')
    .argument('[folder]', 'an absolute folder (/media and /media/ are the same), or a file', '/')
    .option('-l, --long', 'size in bytes, chunks and path of each file')
    .option('-h, --human', 'sizes in B, KiB, MiB, GiB (with -l)')
    .option('-R, --recursive', 'every file below the folder, at any depth')
    .action((folder: string, opts: LsFlags) =>
      run(async (client) => {
        const listing = await client.list(folder, { recursive: opts.recursive ?? false });
        return { json: { files: listing.files, folders: listing.folders }, text: formatListing(listing, opts) };
      }),
    );
}
