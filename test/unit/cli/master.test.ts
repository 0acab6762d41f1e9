import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { resolveMasterConfig, MASTER_DEFAULTS } from '../../../src/config/master.js';
import { readConfigFile } from '../../../src/config/file.js';
import { masterToml, runMaster, spawnMaster, writeToml } from '../../support/cluster-helpers.js';
import { call, ROOT, tempDir } from '../../support/helpers.js';

t.test('the shipped chunk_server.toml holds the master defaults', async (t) => {
  t.same(resolveMasterConfig(readConfigFile(join(ROOT, 'chunk_server.toml'), true), {}), MASTER_DEFAULTS);
});

t.test('[master] keys and flags', async (t) => {
  const c = resolveMasterConfig(
    { master: { port: 6000, replication_factor: 2, distance_weight: 1, space_weight: 0, replication_interval: 0.5 }, chunk_server: { heartbeat_interval: 0.25 } },
    { host: '0.0.0.0', metadata: 'm.json' },
  );
  t.match(c, { host: '0.0.0.0', port: 6000, replicationFactor: 2, distanceWeight: 1, spaceWeight: 0, replicationIntervalS: 0.5, heartbeatIntervalS: 0.25, metadataFile: 'm.json' });
  t.equal(resolveMasterConfig({ master: { heartbeat_interval: 2 }, chunk_server: { heartbeat_interval: 9 } }, {}).heartbeatIntervalS, 2, '[master] wins');
});

t.test('usage errors exit 2 with one line', async (t) => {
  const dir = await tempDir(t);
  for (const [args, pattern] of [
    [['--port', 'x'], /^master: --port must be a port number 0-65535, got "x"\n$/],
    [['--bogus'], /^master: unknown option '--bogus'\n$/],
    [['--config', 'missing.toml'], /^master: cannot read config missing.toml: ENOENT\n$/],
  ] as const) {
    const r = await runMaster([...args], dir);
    t.equal(r.code, 2, args.join(' '));
    t.match(r.stderr, pattern);
  }
  await writeFile(join(dir, 'w.toml'), '[master]\ndistance_weight = 0\nspace_weight = 0\n');
  const r = await runMaster(['--config', 'w.toml'], dir);
  t.equal(r.code, 2);
  t.match(r.stderr, /cannot both be 0/);
});

t.test('a corrupt metadata file stops the start instead of being overwritten', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'meta.json'), '{"half":');
  const r = await runMaster(['--config', await writeToml(dir, 'm.toml', masterToml()), '--port', '0', '--metadata', 'meta.json', '--log_level', 'silent'], dir);
  t.equal(r.code, 1);
  t.match(r.stderr, /^master: cannot start: metadata file .*meta\.json is not valid JSON/);
});

t.test('SIGTERM stops the master cleanly with its metadata on disk', async (t) => {
  const dir = await tempDir(t);
  const master = await spawnMaster(t, ['--config', await writeToml(dir, 'm.toml', masterToml()), '--port', '0', '--metadata', 'meta.json'], dir);
  t.same(await call(master.port, { command: 'add_file', file_path: '/x', total_size: 0, chunk_ids: [] }), { status: 'ok' });
  master.proc.kill('SIGTERM');
  t.equal(await master.exited, 0);
  t.match(master.stdout(), /"msg":"stopped"/);
});
