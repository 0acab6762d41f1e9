// gfs checksum: a file's checksum from its chunk list, as the master records it (no data read).
import type { Command } from 'commander';
import type { Run } from './runner.js';

export function addChecksum(program: Command, run: Run): void {
  program
    .command('checksum')
    .description("print a checksum of REMOTE made from its chunks' ids and sizes, without reading its data")
    .argument('<remote>', 'path in the cluster')
    .action((remote: string) =>
      run(async (client) => {
        const c = await client.checksum(remote);
        return { json: { ...c }, text: `${c.checksum}  ${c.path}\n` };
      }),
    );
}
