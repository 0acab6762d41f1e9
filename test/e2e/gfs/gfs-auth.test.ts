// gfs against a cluster under client_auth = "writes": without a key its writes are refused
// with the server's documented message; with --key_file (or $GFS_KEY_FILE) they are signed
// and taken, and reads need no key.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { spawnChunk } from '../../support/cluster.js';
import { waitForServers } from '../../support/cluster-probes.js';
import { chunkToml, masterToml, writeToml } from '../../support/configs.js';
import { runGfs, spawnMaster } from '../../support/processes.js';
import { tempDir } from '../../support/temp.js';

t.test('gfs signs its requests with --key_file or $GFS_KEY_FILE under client_auth', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'cluster.key'), `${randomBytes(32).toString('hex')}\n`);
  await mkdir(join(dir, 'clients'));
  await writeFile(join(dir, 'clients', 'alice.key'), `${randomBytes(32).toString('hex')}\n`);
  await writeFile(join(dir, 'mallory.key'), `${randomBytes(32).toString('hex')}\n`);
  const security = `[security]\ncluster_key_file = "cluster.key"\nclient_auth = "writes"\nclient_keys_dir = "clients"\n`;
  const config = await writeToml(dir, 'c.toml', `${masterToml({ beatS: 1 })}replication_factor = 2\n${chunkToml({ beatS: 1 })}${security}`);
  const master = await spawnMaster(t, ['--config', config, '--port', '0', '--metadata', 'meta.json'], dir);
  const a = await spawnChunk(t, dir, { id: 'a', master: master.port, config, x: 1, y: 1 });
  const b = await spawnChunk(t, dir, { id: 'b', master: master.port, config, x: 2, y: 2 });
  await waitForServers(master.port, [a.address, b.address]);
  const data = randomBytes(300_000);
  await writeFile(join(dir, 'in.bin'), data);
  const gfs = (args: string[], env: NodeJS.ProcessEnv = {}) => runGfs(['--master', master.address, '--chunk_size', '100000', '--quiet', ...args], { cwd: dir, env });

  const keyless = await gfs(['put', 'in.bin', '/f']);
  t.equal(keyless.code, 1, 'a put without a key fails');
  t.match(keyless.stderr, /auth_required/, 'and says the server wants a key');
  const wrong = await gfs(['--key_file', 'mallory.key', 'put', 'in.bin', '/f']);
  t.equal(wrong.code, 1, 'a key the cluster does not know is refused');
  t.match(wrong.stderr, /auth_failed: unknown_key/);
  const missing = await gfs(['--key_file', 'no-such.key', 'put', 'in.bin', '/f']);
  t.equal(missing.code, 2, 'an unreadable key file is a usage error, as an unreadable config is');
  t.match(missing.stderr, /^gfs: key file no-such\.key: /, 'a missing key file is one line naming it');

  const put = await gfs(['--key_file', join('clients', 'alice.key'), 'put', 'in.bin', '/f']);
  t.equal(put.code, 0, `a signed put succeeds ${put.stderr}`);
  const got = await gfs(['get', '/f', 'out.bin']);
  t.equal(got.code, 0, 'reads need no key under "writes"');
  t.ok((await readFile(join(dir, 'out.bin'))).equals(data), 'byte-identical');
  const rmKeyless = await gfs(['rm', '/f']);
  t.equal(rmKeyless.code, 1, 'a delete without a key is refused');
  const rm = await gfs(['rm', '/f'], { GFS_KEY_FILE: join(dir, 'clients', 'alice.key') });
  t.equal(rm.code, 0, `$GFS_KEY_FILE signs too ${rm.stderr}`);
  t.equal((await gfs(['stat', '/f'])).code, 1, 'the file is gone');
});
