// Interop both ways with the reference GFSClient (its flows in test/support/python/gfs_flows.py,
// through the one-file switch protocol/python/gfs_msgpack.py): a file put by gfs is
// downloaded whole by the reference client, and a file it uploaded and appended to is read
// whole by gfs.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { startCluster } from '../../support/cluster.js';
import { bytes } from '../../support/data.js';
import { runPython } from '../../support/python.js';

// gfs_flows.py's CHUNK_SIZE: the reference's [client] upload_chunk_size, scaled down.
const REFERENCE_CHUNK = 300_000;

t.test('gfs and the reference GFSClient read each other\'s files', async (t) => {
  const c = await startCluster(t);
  const port = c.master.address.split(':')[1]!;

  t.test('put by gfs (several chunks in flight), downloaded by the reference client', async (t) => {
    const data = bytes(5 * 250_000 + 777, 21);
    await writeFile(join(c.base, 'g.bin'), data);
    const put = await c.gfs(['--chunk_size', '250000', '--concurrency', '4', 'put', join(c.base, 'g.bin'), '/from-gfs.bin']);
    t.equal(put.code, 0, put.stderr);
    const run = await runPython('test/support/python/gfs_interop.py', [port, 'download', '/from-gfs.bin', join(c.base, 'py.out')], 60_000);
    t.equal(run.code, 0, run.stderr.slice(-3000));
    t.ok((await readFile(join(c.base, 'py.out'))).equals(data), 'the reference client read the same bytes');
  });

  t.test('uploaded and appended to by the reference client, read by gfs', async (t) => {
    const first = bytes(2 * REFERENCE_CHUNK + 120_000, 22);
    const appended = bytes(50_000, 23);
    await writeFile(join(c.base, 'first'), first);
    await writeFile(join(c.base, 'appended'), appended);
    const run = await runPython('test/support/python/gfs_interop.py', [port, 'upload', '/from-py.bin', join(c.base, 'first'), join(c.base, 'appended')], 60_000);
    t.equal(run.code, 0, run.stderr.slice(-3000));
    const get = await c.gfs(['get', '/from-py.bin', join(c.base, 'gfs.out')]);
    t.equal(get.code, 0, get.stderr);
    t.ok((await readFile(join(c.base, 'gfs.out'))).equals(Buffer.concat([first, appended])), 'gfs read the upload and the append whole');

    // The appended chunk's id is the hash of its first bytes only: gfs accepts it by length.
    const more = Buffer.from('and gfs appends after the reference client\n');
    t.equal((await c.gfs(['append', '/from-py.bin', '-'], { input: more })).code, 0);
    const back = await runPython('test/support/python/gfs_interop.py', [port, 'download', '/from-py.bin', join(c.base, 'py2.out')], 60_000);
    t.equal(back.code, 0, back.stderr.slice(-3000));
    t.ok((await readFile(join(c.base, 'py2.out'))).equals(Buffer.concat([first, appended, more])), 'and the reference client reads the append gfs made');
  });
});
