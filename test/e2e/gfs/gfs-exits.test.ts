// Truthful exits: whatever sits at the master's address (something that hangs up, something
// silent, something that speaks another protocol), bin/gfs ends with exit 1, one line naming
// it, and with --json the error's code. And --version says which gfs this is.
import { createServer as createHttpServer } from 'node:http';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { ROOT } from '../../support/paths.js';
import { runGfs, type Run } from '../../support/processes.js';
import { tempDir, type Teardown } from '../../support/temp.js';

/** Listens on 127.0.0.1 until the test ends; `server` decides what each connection gets. */
async function fake(t: Teardown, server: Server): Promise<string> {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const a = server.address();
  return `127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
}

const json = (r: Run): Record<string, unknown> => JSON.parse(r.stdout.toString()) as Record<string, unknown>;

t.test('a master that accepts, then closes at once', async (t) => {
  const dir = await tempDir(t);
  const gfs = (args: string[]) => runGfs(args, { cwd: dir });
  // end(): a clean close, which gfs used to take for "nothing to say" and exit 0 on.
  const ender = await fake(t, createServer((s) => s.end()));
  const message = `gfs: the master at ${ender} closed the connection without a reply\n`;

  const ls = await gfs(['--master', ender, 'ls']);
  t.equal(ls.code, 1);
  t.equal(ls.stderr, message);
  t.equal(ls.stdout.length, 0);
  const lsJson = await gfs(['--master', ender, '--json', 'ls']);
  t.equal(lsJson.code, 1);
  t.same(json(lsJson), { status: 'error', code: 'master_closed', message: message.slice('gfs: '.length, -1) });

  await writeFile(join(dir, 'in.bin'), 'some bytes');
  const put = await gfs(['--master', ender, '--json', 'put', join(dir, 'in.bin'), '/in.bin']);
  t.equal(put.code, 1, 'put');
  t.equal(json(put).code, 'master_closed');
  t.equal(put.stderr, message);
  const before = await readdir(dir);
  const get = await gfs(['--master', ender, '--json', 'get', '/in.bin', join(dir, 'out.bin')]);
  t.equal(get.code, 1, 'get');
  t.equal(json(get).code, 'master_closed');
  t.same(await readdir(dir), before, 'get left no file behind');

  // A reset (RST) rather than a clean close: the same to a user.
  const resetter = await fake(t, createServer((s) => s.once('data', () => s.resetAndDestroy())));
  const reset = await gfs(['--master', resetter, '--json', 'ls']);
  t.equal(reset.code, 1);
  t.equal(json(reset).code, 'master_closed');
  t.equal(reset.stderr, `gfs: the master at ${resetter} closed the connection without a reply\n`);
});

t.test('a master that accepts and never answers: --timeout ends the wait', async (t) => {
  const dir = await tempDir(t);
  const silent = await fake(t, createServer(() => undefined));
  const r = await runGfs(['--master', silent, '--timeout', '1', '--json', 'ls'], { cwd: dir });
  t.equal(r.code, 1);
  t.equal(json(r).code, 'master_timeout');
  t.equal(r.stderr, `gfs: the master at ${silent} did not answer within 1 s\n`);

  await writeFile(join(dir, 'in.bin'), 'some bytes');
  const put = await runGfs(['--master', silent, '--timeout', '0.5', 'put', join(dir, 'in.bin'), '/in.bin'], { cwd: dir });
  t.equal(put.code, 1);
  t.equal(put.stderr, `gfs: the master at ${silent} did not answer within 0.5 s\n`);

  for (const bad of ['0', '-1', 'soon']) {
    const usage = await runGfs(['--master', silent, '--timeout', bad, 'ls'], { cwd: dir });
    t.equal(usage.code, 2, `--timeout ${bad}`);
    t.equal(usage.stderr, `gfs: --timeout must be a positive number of seconds, got ${JSON.stringify(bad)}\n`);
  }
});

t.test('something other than a GFS master at the address', async (t) => {
  const dir = await tempDir(t);
  const check = async (address: string, what: string): Promise<void> => {
    const r = await runGfs(['--master', address, 'ls'], { cwd: dir });
    t.equal(r.code, 1, what);
    t.equal(r.stderr, `gfs: not a GFS master at ${address}\n`, what);
    const j = await runGfs(['--master', address, '--json', 'ls'], { cwd: dir });
    t.equal(json(j).code, 'not_gfs_master', what);
  };
  const http = await fake(t, createHttpServer((_req, res) => res.end('hello')));
  await check(http, 'an HTTP server');
  // "220 " read as a length is 842 MB: under the reply limit, so only the body's first byte tells.
  await check(await fake(t, createServer((s) => s.write('220 smtp.example.org ESMTP ready\r\n'))), 'an SMTP greeting');
  const frameOf = (body: Buffer): Buffer => Buffer.concat([Buffer.from([0, 0, 0, body.length]), body]);
  await check(await fake(t, createServer((s) => s.end(frameOf(Buffer.from([0x05]))))), 'a frame holding a number');
  // A map without the status every reply carries (PROTOCOL.md section 3): {a: 1}.
  await check(await fake(t, createServer((s) => s.end(frameOf(Buffer.from([0x81, 0xa1, 0x61, 0x01]))))), 'a map without status');
});

t.test('--version prints the version in package.json', async (t) => {
  const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  for (const flag of ['--version', '-V']) {
    const r = await runGfs([flag]);
    t.equal(r.code, 0, flag);
    t.equal(r.stdout.toString(), `${version}\n`, flag);
    t.equal(r.stderr, '', flag);
  }
});
