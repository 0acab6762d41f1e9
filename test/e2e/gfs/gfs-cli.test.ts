// Each gfs command through the real bin/gfs against a real cluster of child processes: what
// a user sees on stdout and stderr, the exit status, and the bytes that come back.
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { startCluster } from '../../support/cluster.js';
import { freePort } from '../../support/configs.js';
import { bytes } from '../../support/data.js';
import { runGfs } from '../../support/processes.js';

const CHUNK = 300_000;

t.test('gfs against a master and three chunk servers', async (t) => {
  const c = await startCluster(t);
  const gfs = (args: string[], o?: Parameters<typeof c.gfs>[1]) => c.gfs(['--chunk_size', String(CHUNK), ...args], o);
  const data = bytes(4 * CHUNK + 12_345, 7);
  const local = join(c.base, 'in.bin');
  await writeFile(local, data);

  t.test('put, then get and cat give the same bytes; ls and stat show the file', async (t) => {
    const put = await gfs(['put', local, '/dir/a.bin']);
    t.equal(put.code, 0, put.stderr);
    t.equal(put.stderr, '', 'nothing on stderr when it is not a terminal');
    t.equal(put.stdout.length, 0, 'put is silent');

    const out = join(c.base, 'out.bin');
    const get = await gfs(['get', '/dir/a.bin', out]);
    t.equal(get.code, 0, get.stderr);
    t.ok((await readFile(out)).equals(data), 'get: byte-exact');

    await mkdir(join(c.base, 'into'));
    t.equal((await gfs(['get', '/dir/a.bin', join(c.base, 'into')])).code, 0);
    t.ok((await readFile(join(c.base, 'into', 'a.bin'))).equals(data), 'get into a directory keeps the file name');

    const cat = await gfs(['cat', '/dir/a.bin']);
    t.equal(cat.code, 0, cat.stderr);
    t.ok(cat.stdout.equals(data), 'cat: byte-exact on stdout');
    const dash = await gfs(['get', '/dir/a.bin', '-']);
    t.ok(dash.stdout.equals(data), 'get REMOTE - writes stdout');

    const ls = await gfs(['ls', '-l', '/dir']);
    t.equal(ls.code, 0);
    t.match(ls.stdout.toString(), `${data.length}\t5\t/dir/a.bin\n`);
    t.match((await gfs(['ls', '-l', '-h', '/dir'])).stdout.toString(), '1.2 MiB\t5\t/dir/a.bin\n', '-h: sizes in units');
    const lsJson = JSON.parse((await gfs(['--json', 'ls', '/dir/'])).stdout.toString());
    t.same(lsJson, { status: 'ok', files: [{ path: '/dir/a.bin', size: data.length, chunks: 5 }], folders: [] });
    t.same(JSON.parse((await gfs(['ls', '/other', '--json'])).stdout.toString()).files, [], 'a folder with nothing in it; --json after the command');

    const stat = JSON.parse((await gfs(['--json', 'stat', '/dir/a.bin'])).stdout.toString());
    t.equal(stat.size, data.length);
    t.equal(stat.chunks.length, 5);
    const addresses = c.servers.map((s) => s.address).sort();
    for (const [i, chunk] of stat.chunks.entries()) {
      t.equal(chunk.size, i < 4 ? CHUNK : 12_345, `chunk ${i} size`);
      t.same(chunk.holders.map((h: { address: string }) => h.address).sort(), addresses, `chunk ${i} on every server`);
      t.ok(chunk.holders.every((h: { live: boolean }) => h.live), `chunk ${i}: holders live`);
    }
    const text = (await gfs(['stat', '/dir/a.bin'])).stdout.toString();
    t.match(text, /^path {4}\/dir\/a\.bin\nsize {4}1212345 bytes \(1\.2 MiB\)\nchunks  5\n/);
    t.match(text, /\(live\)/);
  });

  t.test('put from stdin, append from a file and from stdin; the reads follow', async (t) => {
    const first = bytes(CHUNK + 100, 3);
    const put = await gfs(['--json', 'put', '-', '/stdin.bin'], { input: first });
    t.equal(put.code, 0, put.stderr);
    t.same(JSON.parse(put.stdout.toString()), { status: 'ok', remote: '/stdin.bin', local: '-', size: first.length, chunks: 2, copies: [3, 3], replication_factor: 3, warnings: [] });

    // Fills the last chunk (100 bytes in) and spills into a new one.
    const more = bytes(CHUNK, 4);
    await writeFile(join(c.base, 'more.bin'), more);
    const app = await gfs(['--json', 'append', '/stdin.bin', join(c.base, 'more.bin')]);
    t.equal(app.code, 0, app.stderr);
    t.equal(JSON.parse(app.stdout.toString()).appended, more.length);
    const tail = Buffer.from('a line appended from stdin\n');
    t.equal((await gfs(['append', '/stdin.bin', '-'], { input: tail })).code, 0);

    const whole = Buffer.concat([first, more, tail]);
    t.ok((await gfs(['cat', '/stdin.bin'])).stdout.equals(whole), 'the file holds all three parts in order');
    const stat = JSON.parse((await gfs(['--json', 'stat', '/stdin.bin'])).stdout.toString());
    t.same(stat.chunks.map((ch: { size: number }) => ch.size), [CHUNK, CHUNK, 100 + tail.length], 'two full chunks and a new last one');

    const created = await gfs(['append', '/fresh.txt', '-'], { input: Buffer.from('new\n') });
    t.equal(created.code, 0, 'append creates a missing file');
    t.equal((await gfs(['cat', '/fresh.txt'])).stdout.toString(), 'new\n');
  });

  t.test('an empty file', async (t) => {
    await writeFile(join(c.base, 'empty'), '');
    t.equal((await gfs(['put', join(c.base, 'empty'), '/empty'])).code, 0);
    const got = await gfs(['get', '/empty', join(c.base, 'empty.out')]);
    t.equal(got.code, 0, got.stderr);
    t.equal((await readFile(join(c.base, 'empty.out'))).length, 0);
    t.same(JSON.parse((await gfs(['--json', 'stat', '/empty'])).stdout.toString()).chunks, []);
  });

  t.test('put onto an existing file fails unless --force', async (t) => {
    const again = await gfs(['put', local, '/dir/a.bin']);
    t.equal(again.code, 1);
    t.equal(again.stderr, 'gfs: /dir/a.bin already exists (overwrite it with --force)\n');
    const json = await gfs(['--json', 'put', local, '/dir/a.bin']);
    t.same(JSON.parse(json.stdout.toString()), { status: 'error', code: 'file_exists', message: '/dir/a.bin already exists (overwrite it with --force)' });

    const other = bytes(CHUNK + 1, 9);
    await writeFile(join(c.base, 'other.bin'), other);
    const forced = await gfs(['put', '--force', join(c.base, 'other.bin'), '/dir/a.bin']);
    t.equal(forced.code, 0, forced.stderr);
    t.ok((await gfs(['cat', '/dir/a.bin'])).stdout.equals(other), 'the new bytes replaced the old');
    t.equal(JSON.parse((await gfs(['--json', 'stat', '/dir/a.bin'])).stdout.toString()).size, other.length);
  });

  t.test('servers lists every server with its location, space and state', async (t) => {
    const text = (await gfs(['servers'])).stdout.toString().split('\n');
    t.match(text[0], /^ADDRESS\s+LOCATION\s+USED\s+TOTAL\s+CHUNKS\s+STATE$/);
    const json = JSON.parse((await gfs(['servers', '--json'])).stdout.toString());
    t.same(json.servers.map((s: { address: string }) => s.address), c.servers.map((s) => s.address).sort());
    for (const s of json.servers) {
      t.equal(s.live, true);
      t.equal(s.total, 64 * 1024 * 1024, `${s.address}: total space`);
      t.type(s.location[0], 'number');
    }
    for (const s of c.servers) t.match(text.join('\n'), new RegExp(`${s.address}\\s+\\d+,10\\s+.*live`));
  });

  t.test('bad input: one line on stderr, exit 1, no local file left behind', async (t) => {
    const missingLocal = await gfs(['put', join(c.base, 'no-such-file'), '/x']);
    t.equal(missingLocal.code, 1);
    t.equal(missingLocal.stderr, `gfs: cannot read ${join(c.base, 'no-such-file')}: no such file\n`);
    const dirAsFile = await gfs(['put', c.base, '/x']);
    t.equal(dirAsFile.code, 1);
    t.match(dirAsFile.stderr, /^gfs: cannot read .*: not a regular file\n$/);

    const before = await readdir(c.base);
    const missingRemote = await gfs(['get', '/no/such/file', join(c.base, 'target')]);
    t.equal(missingRemote.code, 1);
    t.equal(missingRemote.stderr, 'gfs: no such file: /no/such/file\n');
    t.same(await readdir(c.base), before, 'no file, and no temp file, was created');
    for (const cmd of [['cat', '/nope'], ['stat', '/nope'], ['append', '/dir/a.bin', join(c.base, 'nope')]]) {
      const r = await gfs(cmd);
      t.equal(r.code, 1, cmd.join(' '));
      t.equal(r.stderr.split('\n').length, 2, `${cmd[0]}: one line`);
      t.notMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
    }
    const noDir = await gfs(['get', '/dir/a.bin', join(c.base, 'no-dir', 'x')]);
    t.equal(noDir.code, 1);
    t.match(noDir.stderr, /^gfs: cannot write .*no-dir\/x: no such directory\n$/);

    const port = await freePort();
    const unreachable = await c.gfs(['--master', `127.0.0.1:${port}`, 'ls']);
    t.equal(unreachable.code, 1);
    t.equal(unreachable.stderr, `gfs: master unreachable (127.0.0.1:${port}: connection refused)\n`);
    const json = await c.gfs(['--master', `127.0.0.1:${port}`, '--json', 'get', '/a', join(c.base, 'a')]);
    t.equal(JSON.parse(json.stdout.toString()).code, 'master_unreachable');
  });

  t.test('usage errors exit 2', async (t) => {
    for (const args of [['frobnicate'], ['put', 'only-one'], ['get'], ['ls', 'a', 'b'], ['--chunk_size', 'big', 'ls'], ['--master', 'nohostport', 'ls'], ['decommission', 'not-an-address'], []]) {
      const r = await c.gfs(args);
      t.equal(r.code, 2, `gfs ${args.join(' ')}: ${r.stderr}`);
      t.match(r.stderr, /^gfs: /);
    }
    const help = await c.gfs(['--help']);
    t.equal(help.code, 0);
    t.match(help.stdout.toString(), /Usage: gfs \[options\] <command> \[args\]/);
    const putHelp = await c.gfs(['put', '--help']);
    t.match(putHelp.stdout.toString(), /Usage: gfs put \[options\] <local> <remote>/);
  });

  t.test('master from GFS_MASTER, then from the config file', async (t) => {
    const viaEnv = await runWith(['ls', '-R'], { GFS_MASTER: c.master.address });
    t.equal(viaEnv.code, 0, viaEnv.stderr);
    t.match(viaEnv.stdout.toString(), /\/dir\/a\.bin/);
    const [host, port] = c.master.address.split(':');
    const cfg = join(c.base, 'client.toml');
    await writeFile(cfg, `[master]\nhost = "${host}"\nport = ${port}\n\n[client]\nupload_chunk_size = 100000\n`);
    const put = await runWith(['--config', cfg, '--json', 'put', local, '/via-config.bin'], {});
    t.equal(put.code, 0, put.stderr);
    t.equal(JSON.parse(put.stdout.toString()).chunks, Math.ceil(data.length / 100_000), '[client] upload_chunk_size sets the chunk size');
    const missing = await runWith(['--config', join(c.base, 'nope.toml'), 'ls'], {});
    t.equal(missing.code, 2, 'a named config that does not exist is a usage error');
  });

  async function runWith(args: string[], env: NodeJS.ProcessEnv) {
    return runGfs(args, { cwd: c.base, env });
  }
});
