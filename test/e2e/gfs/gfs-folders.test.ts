// Issue 25 item 6: put -r, get -r and rm -r of folders through the real bin/gfs against a real
// master and chunk server: every file under the same relative path, one summary line, exit 1
// (files_failed) when any file failed, and rm -r / refused without --force.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { startCluster } from '../../support/cluster.js';
import { bytes } from '../../support/data.js';

t.test('put -r, get -r, rm -r', async (t) => {
  const c = await startCluster(t, { servers: 1, master: 'replication_factor = 1\n', chunk: '[master]\nreplication_factor = 1\n' });
  const gfs = (args: string[]) => c.gfs(['--chunk_size', '100000', ...args]);
  const json = async (args: string[]) => JSON.parse((await gfs(['--json', ...args])).stdout.toString());
  const src = join(c.base, 'src');
  await mkdir(join(src, 'sub', 'deep'), { recursive: true });
  const files: Record<string, Buffer> = { 'a.txt': Buffer.from('alpha\n'), 'sub/b.bin': bytes(250_000, 7), 'sub/deep/c.txt': Buffer.from('gamma\n') };
  for (const [rel, data] of Object.entries(files)) await writeFile(join(src, ...rel.split('/')), data);

  const put = await gfs(['put', '-r', src, '/bk/']);
  t.equal(put.code, 0, put.stderr);
  t.equal(put.stdout.toString(), 'put 3 of 3 files (244.2 KiB) to /bk/\n');
  t.equal((await gfs(['ls', '-R', '/bk'])).stdout.toString(), '/bk/a.txt\n/bk/sub/b.bin\n/bk/sub/deep/c.txt\n');

  const again = await json(['put', '-r', src, '/bk']);
  t.match(again, { status: 'error', code: 'files_failed', message: '3 of 3 files failed', failed: 3, bytes: 0 });
  t.match(again.files[0], { remote: '/bk/a.txt', error: { code: 'file_exists' } });
  // New bytes for the replacement: a put of the very bytes just deleted races the master's
  // removal of their (same-named) chunks, which is not what this test is about.
  files['a.txt'] = Buffer.from('alpha, again\n');
  files['sub/b.bin'] = bytes(250_000, 8);
  files['sub/deep/c.txt'] = Buffer.from('gamma, again\n');
  for (const [rel, data] of Object.entries(files)) await writeFile(join(src, ...rel.split('/')), data);
  t.equal((await json(['put', '-r', '--force', src, '/bk'])).failed, 0, '--force replaces them');

  await writeFile(join(c.base, 'one.txt'), 'taken\n');
  t.equal((await gfs(['put', join(c.base, 'one.txt'), '/part/a.txt'])).code, 0);
  const partial = await gfs(['put', '-r', src, '/part']);
  t.equal(partial.code, 1, 'one file failed: exit 1');
  t.equal(partial.stdout.toString(), 'put 2 of 3 files (244.2 KiB) to /part, 1 failed\n');
  t.equal(partial.stderr, 'gfs: /part/a.txt: /part/a.txt already exists (overwrite it with --force)\ngfs: 1 of 3 files failed\n');
  t.ok((await gfs(['cat', '/part/sub/deep/c.txt'])).stdout.equals(files['sub/deep/c.txt']!), 'the others went up');

  const out = join(c.base, 'out');
  const get = await gfs(['get', '-r', '/bk', out]);
  t.equal(get.code, 0, get.stderr);
  t.equal(get.stdout.toString(), 'got 3 of 3 files (244.2 KiB) from /bk\n');
  for (const [rel, data] of Object.entries(files)) t.ok((await readFile(join(out, ...rel.split('/')))).equals(data), `${rel} came back whole`);
  const got = await json(['get', '-r', '/bk/sub/', join(c.base, 'out2')]);
  t.match(got, { status: 'ok', failed: 0, bytes: 250_013, files: [{ remote: '/bk/sub/b.bin', local: join(c.base, 'out2', 'b.bin') }, { remote: '/bk/sub/deep/c.txt' }] });
  const none = await gfs(['get', '-r', '/nothing', out]);
  t.equal(none.code, 1);
  t.equal(none.stderr, 'gfs: no file under /nothing\n');

  const root = await gfs(['rm', '-r', '/']);
  t.equal(root.code, 2, 'rm -r / is refused without --force');
  t.equal(root.stderr, 'gfs: refusing to remove every file in the cluster (the folder is /); force it to\n');
  const rm = await gfs(['rm', '-r', '/bk/']);
  t.equal(rm.code, 0, rm.stderr);
  t.equal(rm.stdout.toString(), 'removed 3 of 3 files under /bk/\n');
  t.equal((await gfs(['ls', '-R', '/'])).stdout.toString(), '/part/a.txt\n/part/sub/b.bin\n/part/sub/deep/c.txt\n', 'only the folder went');
  t.equal((await gfs(['rm', '-r', '/bk'])).code, 1, 'nothing left under it');
  t.match(await json(['rm', '-r', '--force', '/']), { status: 'ok', removed: '/', failed: 0, files: [{ remote: '/part/a.txt' }, {}, {}] });
  t.equal((await gfs(['ls', '-R', '/'])).stdout.toString(), '');
});
