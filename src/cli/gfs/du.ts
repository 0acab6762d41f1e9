// gfs du: bytes under a folder, in total and per folder directly in it (from the master's records).
import type { Command } from 'commander';
import { humanBytes } from '../../units.js';
import type { Run } from './runner.js';

export function addDu(program: Command, run: Run): void {
  program
    .command('du')
    .description('bytes, files and chunks under FOLDER: one line per folder in it, then the total')
    .helpOption('--help', 'display help for command')
    .argument('[folder]', 'an absolute folder', '/')
    .option('-h, --human', 'sizes in B, KiB, MiB, GiB')
    .option('-s, --summarize', 'the total only')
    .action((folder: string, opts: { human?: boolean; summarize?: boolean }) =>
      run(async (client) => {
        const u = await client.usage(folder);
        const size = (n: number) => (opts.human ? humanBytes(n) : String(n));
        const rows = [...(opts.summarize ? [] : u.folders), u.total];
        const text = rows.map((r) => `${size(r.size)}\t${r.files}\t${r.path}\n`).join('');
        return { json: { ...u.total, folders: u.folders }, text };
      }),
    );
}
