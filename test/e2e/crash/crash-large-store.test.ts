// Large stores written where their version lives (issue 22 item 2): a server killed (kill -9
// from inside, CHUNKSERVER_CRASH_AT) at each step of the new write path, started again. The
// chunk is the old version or the new one, whole, never a mix; once the record naming the
// new file is committed (store.published), the new one; and exactly one data file of the
// chunk is left, holding exactly the committed bytes: start-up removes the tagged file of a
// store that never published and the old version's file whose removal the crash cut short.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { call } from '../../support/frames.js';
import { bytes, MIB } from '../../support/data.js';
import { chunkFile, chunkIdOfFile } from '../../support/chunk-files.js';
import { dies, retrieve, start, stop } from '../../support/crash-points.js';
import { tempDir } from '../../support/temp.js';

// Above the large-store bound (256 KiB): written under a tagged name.
const LARGE_NEW = bytes(MIB + 4321, 21);
const olds = { 'a small old version (renamed into place)': bytes(70_000, 22), 'a large old version (tagged)': bytes(600_000, 23) };
const points: Array<{ point: string; mustBeNew: boolean }> = [
  { point: 'store.data-synced', mustBeNew: false },
  { point: 'store.published', mustBeNew: true },
  { point: 'store.old-removed', mustBeNew: true },
];

for (const [oldName, old] of Object.entries(olds)) {
  for (const { point, mustBeNew } of points) {
    t.test(`kill -9 at ${point}, over ${oldName}`, async (t) => {
      const dir = await tempDir(t);
      const chunkDir = join(dir, 'data', 'cp');
      const first = await start(t, dir);
      t.match(await call(first.port, { command: 'store_chunk', chunk_id: 'c', data: old }), { status: 'ok', version: 1 });
      await stop(first);

      const armed = await start(t, dir, point);
      await dies(t, armed, { command: 'store_chunk', chunk_id: 'c', data: LARGE_NEW });

      const again = await start(t, dir);
      const got = await retrieve(again.port, 'c');
      t.ok(got.data !== null && (got.data.equals(old) || got.data.equals(LARGE_NEW)), 'the chunk is the old version or the new one, whole');
      if (mustBeNew) t.ok(got.data?.equals(LARGE_NEW), 'published: the new version is the chunk');
      else t.ok(got.data?.equals(old), 'not published: the old version is the chunk');
      t.equal(got.version, got.data?.equals(old) ? 1 : 2, 'version: old 1, new 2');
      const files = (await readdir(chunkDir)).filter((n) => n !== '.meta');
      t.same(files.map(chunkIdOfFile), ['c'], `one data file of the chunk is left, nothing else (${files.join(', ')})`);
      t.equal((await stat(chunkFile(chunkDir, 'c'))).size, got.data?.length, 'the file holds exactly the committed bytes');
      t.same(await call(again.port, { command: 'store_chunk', chunk_id: 'c', data: old }), { status: 'ok', chunk_id: 'c', replicas: 0, version: (got.version ?? 0) + 1 }, 'and the chunk takes the next store');
      await stop(again);
    });
  }
}

t.test('kill -9 at commit.installed over a tagged version: the prepared version renamed in is the chunk', async (t) => {
  const dir = await tempDir(t);
  const chunkDir = join(dir, 'data', 'cp');
  const fresh = bytes(90_000, 25);
  const tx = { chunk_id: 'c', transaction_id: 'tx' };
  const first = await start(t, dir);
  t.match(await call(first.port, { command: 'store_chunk', chunk_id: 'c', data: LARGE_NEW }), { status: 'ok', version: 1 });
  t.match(await call(first.port, { command: 'prepare_chunk', ...tx, data: fresh }), { status: 'ok', message: 'prepared' });
  await stop(first);
  t.ok((await readdir(chunkDir)).some((n) => n.startsWith('c~')), 'the chunk lives in its tagged file');

  const armed = await start(t, dir, 'commit.installed');
  await dies(t, armed, { command: 'commit_chunk', ...tx });

  const again = await start(t, dir);
  const got = await retrieve(again.port, 'c');
  t.ok(got.data?.equals(fresh), 'the version renamed in, not the tagged one, is the chunk');
  t.equal(got.version, 2);
  t.same((await readdir(chunkDir)).filter((n) => n !== '.meta' && n !== '.prepared'), ['c'], 'the tagged file is removed');
  t.match(await call(again.port, { command: 'commit_chunk', ...tx }), { status: 'ok', message: 'committed' }, 'the commit, repeated, is committed');
  await stop(again);
});

t.test('a small store over a tagged version leaves no tagged file behind, before or after a restart', async (t) => {
  const dir = await tempDir(t);
  const chunkDir = join(dir, 'data', 'cp');
  const small = bytes(10_000, 26);
  const first = await start(t, dir);
  t.match(await call(first.port, { command: 'store_chunk', chunk_id: 'c', data: LARGE_NEW }), { status: 'ok', version: 1 });
  t.ok((await readdir(chunkDir)).some((n) => n.startsWith('c~')), 'the large version lives in its tagged file');
  t.match(await call(first.port, { command: 'store_chunk', chunk_id: 'c', data: small }), { status: 'ok', version: 2 });
  t.same((await readdir(chunkDir)).filter((n) => n !== '.meta'), ['c'], 'the tagged file is gone once the small version replaced it');
  t.ok((await retrieve(first.port, 'c')).data?.equals(small));
  await stop(first);
  const again = await start(t, dir);
  const got = await retrieve(again.port, 'c');
  t.ok(got.data?.equals(small), 'after a restart: the small version');
  t.equal(got.version, 2);
  await stop(again);
});
