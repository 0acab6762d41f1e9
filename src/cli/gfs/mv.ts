// gfs mv: a rename in the namespace (the master's rename_file), atomic; no data moves.
import type { Command } from 'commander';
import type { Run } from './runner.js';

export function addMv(program: Command, run: Run): void {
  program
    .command('mv')
    .description('rename a file in the cluster, at once and atomically (refused if TARGET exists)')
    .argument('<remote>', 'the file')
    .argument('<target>', 'its new path, or a folder ending in / to move it into')
    .action((remote: string, target: string) =>
      run(async (client) => {
        const to = await client.move(remote, target);
        return { json: { moved: remote, to } };
      }),
    );
}
