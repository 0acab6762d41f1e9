// A chunk server process with a bad [security] refuses to start instead of serving half-configured.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { runCli } from '../../support/processes.js';
import { tempDir } from '../../support/temp.js';

t.test('the chunk server refuses to start on a bad [security]', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 's.toml'), '[security]\nclient_auth = "all"\n');
  const r = await runCli(['--config', 's.toml', '--data_dir', 'data'], dir);
  t.equal(r.code, 2);
  t.match(r.stderr, /^chunkserver: \[security\] client_auth needs cluster_key_file\n$/);
});
