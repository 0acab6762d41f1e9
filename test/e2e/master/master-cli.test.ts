// bin/master as an operator runs it: usage errors, a corrupt metadata file, SIGTERM.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { masterToml, writeToml } from '../../support/configs.js';
import { call } from '../../support/frames.js';
import { runMaster, spawnMaster } from '../../support/processes.js';
import { tempDir } from '../../support/temp.js';

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
