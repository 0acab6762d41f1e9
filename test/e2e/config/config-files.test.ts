// Config files as the servers meet them at start-up: an unknown section or key stops both.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { runCli, runMaster } from '../../support/processes.js';
import { tempDir } from '../../support/temp.js';

t.test('an unknown section or key stops both servers at start-up, naming it', async (t) => {
  const dir = await tempDir(t);
  const cases: Array<[string, string]> = [
    ['[securty]\nclient_auth = "all"\n', 'unknown section [securty]'],
    ['[security]\nclient_atuh = "all"\n', 'unknown key client_atuh in [security]'],
    ['[chunk_server]\nheartbeat_intervall = 5\n', 'unknown key heartbeat_intervall in [chunk_server]'],
    ['[master]\nreplication = 2\n', 'unknown key replication in [master]'],
    ['stray = 1\n', 'unknown top-level key stray'],
    ['[security]\ntls_cert = "c.pem"\n', '[security] tls_cert: renamed: tls_cert_file'],
    ['[master]\nconnect_timeout_s = 2\n', '[master] connect_timeout_s: removed: the master never used it'],
    ['[master]\npeer_timeout_s = 30\n', '[master] peer_timeout_s: removed: the master never used it'],
  ];
  for (const [toml, message] of cases) {
    await writeFile(join(dir, 'x.toml'), toml);
    const chunk = await runCli(['--config', 'x.toml', '--data_dir', 'data'], dir);
    t.equal(chunk.code, 2, `chunkserver: ${message}`);
    t.match(chunk.stderr, `chunkserver: x.toml: ${message}`);
    const master = await runMaster(['--config', 'x.toml', '--metadata', 'm.json'], dir);
    t.equal(master.code, 2, `master: ${message}`);
    t.match(master.stderr, `master: x.toml: ${message}`);
  }
});
