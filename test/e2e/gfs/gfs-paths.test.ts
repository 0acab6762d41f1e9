// Issue 25 item 2, one path rule: gfs and the master refuse new names that are not absolute
// and normalised; names stored before the rule stay readable; ls lists by folder.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { startCluster } from '../../support/cluster.js';
import { call } from '../../support/frames.js';

t.test('the path rule through gfs and the master', async (t) => {
  const c = await startCluster(t, { servers: 1, master: 'replication_factor = 1\n', chunk: '[master]\nreplication_factor = 1\n' });
  const local = join(c.base, 'a.txt');
  await writeFile(local, 'hello\n');
  const names = async (): Promise<string[]> => (await call(c.master.port, { command: 'list_files' })).files;

  t.test('gfs refuses a new name that breaks the rule before sending anything', async (t) => {
    for (const [remote, why] of [['rel/a.txt', 'not absolute'], ['/media/', 'trailing slash'], ['/a//b', 'empty segment'], ['/a/../b', '. or .. segment']]) {
      const put = await c.gfs(['put', local, remote]);
      t.equal(put.code, 2, `${remote}: a usage error`);
      t.equal(put.stderr, `gfs: invalid remote path ${JSON.stringify(remote)}: ${why} (paths are absolute, like /folder/name)\n`);
    }
    const app = await c.gfs(['--json', 'append', 'rel/b.txt', local]);
    t.equal(app.code, 2);
    t.match(JSON.parse(app.stdout.toString()), { status: 'error', code: 'bad_input' });
    t.same(await names(), [], 'nothing was stored');
  });

  t.test('the master refuses it from any client, with a stable message', async (t) => {
    t.same(await call(c.master.port, { command: 'add_file', file_path: 'rel/a.txt', total_size: 0, chunk_ids: [] }), { status: 'error', message: 'invalid_path: not absolute' });
    t.same(await call(c.master.port, { command: 'add_file', file_path: '/media/', total_size: 0, chunk_ids: [] }), { status: 'error', message: 'invalid_path: trailing slash' });
    t.same(await names(), []);
  });

  t.test('names stored before the rule stay readable and removable', async (t) => {
    // As the reference's chunk servers record a store: update_file_metadata takes any name.
    for (const legacy of ['rel/old.txt', '/media/'])
      t.same(await call(c.master.port, { command: 'update_file_metadata', file_path: legacy, chunk_id: 'c0', chunk_locations: [], chunk_size: 0 }), { status: 'ok' });
    const ls = JSON.parse((await c.gfs(['--json', 'ls'])).stdout.toString());
    t.same(ls.files.map((f: { path: string }) => f.path), ['/media/', 'rel/old.txt'], 'listed whole at the root');
    t.equal(JSON.parse((await c.gfs(['--json', 'stat', 'rel/old.txt'])).stdout.toString()).path, 'rel/old.txt', 'stat reads it');
    for (const legacy of ['rel/old.txt', '/media/']) t.equal((await c.gfs(['rm', legacy])).code, 0, `rm ${legacy}`);
    t.same(await names(), []);
  });

  t.test('ls lists by folder: /media and /media/ alike, never a string prefix; -R recurses', async (t) => {
    for (const remote of ['/media/a.txt', '/media/sub/b.txt', '/media/sub/deep/c.txt', '/mediax/d.txt', '/top.txt']) t.equal((await c.gfs(['put', local, remote])).code, 0, remote);
    const ls = async (...args: string[]) => (await c.gfs(['ls', ...args])).stdout.toString();
    t.equal(await ls(), '/media/\n/mediax/\n/top.txt\n', 'the root');
    t.equal(await ls('/media'), '/media/a.txt\n/media/sub/\n');
    t.equal(await ls('/media/'), '/media/a.txt\n/media/sub/\n', 'a trailing slash names the same folder');
    t.equal(await ls('/med'), '', 'a string prefix is no folder');
    t.equal(await ls('-R', '/media'), '/media/a.txt\n/media/sub/b.txt\n/media/sub/deep/c.txt\n');
    t.equal(await ls('-l', '/media'), '6\t1\t/media/a.txt\n-\t-\t/media/sub/\n');
    t.equal(await ls('/top.txt'), '/top.txt\n', 'a file lists itself');
    const json = JSON.parse((await c.gfs(['--json', 'ls', '/media/sub'])).stdout.toString());
    t.same(json, { status: 'ok', files: [{ path: '/media/sub/b.txt', size: 6, chunks: 1 }], folders: ['/media/sub/deep'] });
    const bad = await c.gfs(['ls', 'media']);
    t.equal(bad.code, 2);
    t.equal(bad.stderr, 'gfs: invalid folder "media": not absolute (paths are absolute, like /folder/name)\n');
  });
});
