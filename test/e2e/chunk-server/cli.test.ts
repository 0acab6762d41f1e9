import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { call } from '../../support/frames.js';
import { runCli, spawnServer } from '../../support/processes.js';
import { tempDir } from '../../support/temp.js';

const BAD: Array<[string[], RegExp]> = [
  [['--space', '-5'], /^chunkserver: --space must be a positive number of MiB, got "-5"\n$/],
  [['--space', 'lots'], /^chunkserver: --space must be a positive number of MiB, got "lots"\n$/],
  [['--x', 'abc'], /^chunkserver: --x must be a number, got "abc"\n$/],
  [['--y', ''], /^chunkserver: --y must be a number, got ""\n$/],
  [['--port', '70000'], /^chunkserver: --port must be a port number 0-65535, got "70000"\n$/],
  [['--bogus'], /^chunkserver: unknown option '--bogus'\n$/],
  [['--log_level', 'loud'], /^chunkserver: --log_level must be one of .*, got "loud"\n$/],
  [['--master', 'nohost'], /^chunkserver: --master must be HOST:PORT, got "nohost"\n$/],
  [['--config', 'missing.toml'], /^chunkserver: cannot read config missing.toml: ENOENT\n$/],
  [['a.toml', 'b.toml'], /^chunkserver: too many arguments/],
];

t.test('bad flag values exit 2 with one line naming the problem', async (t) => {
  const dir = await tempDir(t);
  for (const [args, message] of BAD) {
    const r = await runCli([...args, '--data_dir', 'data'], dir);
    t.equal(r.code, 2, args.join(' '));
    t.match(r.stderr, message);
    t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  }
});

t.test('invalid TOML and bad config values exit 2', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'broken.toml'), '[chunk_server\nspace = ');
  let r = await runCli(['--config', 'broken.toml'], dir);
  t.equal(r.code, 2);
  t.match(r.stderr, /^chunkserver: invalid TOML in broken.toml: /);
  await writeFile(join(dir, 'wrong.toml'), '[chunk_server]\nheartbeat_interval = "often"\n');
  r = await runCli(['wrong.toml'], dir);
  t.equal(r.code, 2);
  t.match(r.stderr, /^chunkserver: \[chunk_server\] heartbeat_interval must be a positive number of seconds, got "often"\n$/);
  await writeFile(join(dir, 'table.toml'), 'master = 3\n');
  r = await runCli(['table.toml'], dir);
  t.match(r.stderr, /^chunkserver: config: \[master\] must be a table\n$/);
  r = await runCli(['--config', 'a.toml', 'b.toml'], dir);
  t.match(r.stderr, /^chunkserver: two config paths given: b.toml and --config a.toml\n$/);
});

t.test('--help exits 0 and lists every flag', async (t) => {
  const r = await runCli(['--help'], await tempDir(t));
  t.equal(r.code, 0);
  for (const flag of ['--server_id', '--x', '--y', '--space', '--config', '--host', '--port', '--data_dir', '--master', '--no_master', '--log_level']) {
    t.match(r.stdout, flag);
  }
});

t.test('the config file sets values, flags override them, positional path works', async (t) => {
  const dir = await tempDir(t);
  await writeFile(
    join(dir, 'my.toml'),
    '[master]\nenabled = false\n[chunk_server]\ndata_dir = "store"\nspace_limit_mb = 3\nmax_message_mb = 2\n',
  );
  const server = await spawnServer(t, ['my.toml', '--server_id', 'cfg1'], dir);
  t.match(server.stdout(), /"space_limit":3145728/);
  t.match(server.stdout(), new RegExp(`"chunk_dir":"${join(dir, 'store', 'cfg1')}"`));
  t.same(await call(server.port, { command: 'check_space', size: 3 * 1048576 + 1 }), { status: 'error', message: 'insufficient_space', available_space: 3 * 1048576 });

  const override = await spawnServer(t, ['--config', 'my.toml', '--server_id', 'cfg2', '--space', '5', '--data_dir', 'other'], dir);
  t.match(override.stdout(), /"space_limit":5242880/);
  const info = JSON.parse(await readFile(join(dir, 'other', 'server_info.json'), 'utf8'));
  t.equal(info.cfg2.port, override.port);
});

t.test('a default server_id is chunk_server_<unix seconds>, and the listening line says where', async (t) => {
  const dir = await tempDir(t);
  const before = Math.floor(Date.now() / 1000);
  const server = await spawnServer(t, ['--data_dir', 'data', '--no_master', '--space', '7'], dir);
  const line = JSON.parse(server.stdout().split('\n').find((l) => l.includes('chunk server listening'))!);
  t.match(line.server_id, /^chunk_server_\d+$/);
  t.ok(Number(line.server_id.slice('chunk_server_'.length)) >= before);
  t.equal(line.address, `127.0.0.1:${server.port}`);
  t.equal(line.space_limit, 7 * 1048576);
  t.equal(line.used, 0);
});

t.test('a taken port is a start-up failure with a clear message', async (t) => {
  const dir = await tempDir(t);
  const first = await spawnServer(t, ['--server_id', 'a', '--data_dir', 'data', '--no_master'], dir);
  const r = await runCli(['--server_id', 'b', '--host', '127.0.0.1', '--port', String(first.port), '--data_dir', 'data', '--no_master', '--log_level', 'silent'], dir);
  t.equal(r.code, 1);
  t.match(r.stderr, /^chunkserver: cannot start: listen EADDRINUSE/);
});
