// docs/operating.md shows the three command lines' --help; a flag added or changed without the
// page following fails here. A subcommand's block stops before the global options, which the
// page shows once under `gfs --help`.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { BIN, GFS_BIN, MASTER_BIN, ROOT } from '../../support/paths.js';
import { runText } from '../../support/processes.js';

const GFS_COMMANDS = ['put', 'get', 'cat', 'append', 'ls', 'stat', 'rm', 'servers', 'masters', 'decommission', 'forget', 'mv', 'du', 'checksum', 'completion'];

t.test('docs/operating.md holds every --help as the programs print it', async (t) => {
  const page = await readFile(join(ROOT, 'docs', 'operating.md'), 'utf8');
  for (const [name, bin] of [['chunkserver', BIN], ['master', MASTER_BIN], ['gfs', GFS_BIN]] as const) {
    const help = (await runText(bin, ['--help'])).stdout.trimEnd();
    t.ok(page.includes(help), `${name} --help is on the page as printed`);
  }
  for (const command of GFS_COMMANDS) {
    const help = (await runText(GFS_BIN, [command, '--help'])).stdout.split('\nGlobal Options:')[0]!.trimEnd();
    t.ok(page.includes(help), `gfs ${command} --help is on the page as printed`);
  }
});
