// The open chunk files cache (issue 22 item 3): bounded by LRU, never closing a handle in use,
// closing on forget (rename over, quarantine, removal) and on close. Real files in a temp dir.
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { HandleCache } from '../../../src/storage/io/handle-cache.js';
import { tempDir, type Teardown } from '../../support/temp.js';

/** A closed FileHandle reports fd -1. */
const isOpen = (fh: FileHandle): boolean => fh.fd !== -1;

async function files(t: Teardown, names: string[]): Promise<string> {
  const dir = await tempDir(t);
  for (const n of names) await writeFile(join(dir, n), '');
  return dir;
}

t.test('least recently used handles close past the bound; a used one is reused', async (t) => {
  const dir = await files(t, ['a', 'b', 'c']);
  const cache = new HandleCache((k) => join(dir, k), 2);
  t.teardown(() => cache.close());
  const a = await cache.use('a', async (fh) => fh);
  const b = await cache.use('b', async (fh) => fh);
  t.equal(await cache.use('a', async (fh) => fh), a, 'a second use of a cached file is the same handle');
  const c = await cache.use('c', async (fh) => fh);
  t.equal(cache.size, 2);
  t.notOk(isOpen(b), 'the least recently used (b) was closed');
  t.ok(isOpen(a) && isOpen(c));
  const b2 = await cache.use('b', async (fh) => fh);
  t.not(b2, b, 'b is opened again');
  t.notOk(isOpen(a), 'a, now the oldest, closed');
});

t.test('a handle in use is never closed under its user, even past the bound or forgotten', async (t) => {
  const dir = await files(t, ['a', 'b', 'c']);
  const cache = new HandleCache((k) => join(dir, k), 1);
  t.teardown(() => cache.close());
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let started!: (fh: FileHandle) => void;
  const opened = new Promise<FileHandle>((r) => (started = r));
  const using = cache.use('a', async (fh) => {
    started(fh);
    await held;
    await fh.write(Buffer.from('still open'), 0, 10, 0);
  });
  const inUse = await opened;
  await cache.use('b', async () => undefined);
  await cache.use('c', async () => undefined);
  t.equal(cache.size, 1, 'the bound holds: only the handle in use stays');
  await cache.forget('a');
  t.ok(isOpen(inUse), 'open while its user works');
  release();
  await using;
  t.equal(await readFile(join(dir, 'a'), 'utf8'), 'still open');
  t.notOk(isOpen(inUse), 'closed when its user left');
  t.equal(cache.size, 0, 'nothing left open: b and c were closed past the bound, a forgotten');
});

t.test('forget closes, so the next use opens what the path names now', async (t) => {
  const dir = await files(t, ['x']);
  await writeFile(join(dir, 'new'), 'replacement');
  const cache = new HandleCache((k) => join(dir, k));
  t.teardown(() => cache.close());
  const first = await cache.use('x', async (fh) => fh);
  await cache.forget('x');
  t.notOk(isOpen(first));
  await rename(join(dir, 'new'), join(dir, 'x'));
  const buf = Buffer.alloc(11);
  await cache.use('x', (fh) => fh.read(buf, 0, 11, 0));
  t.equal(buf.toString(), 'replacement', 'the renamed-in file, not the old inode');
});

t.test('a missing file fails the use with ENOENT and caches nothing; close closes all', async (t) => {
  const dir = await files(t, ['a']);
  const cache = new HandleCache((k) => join(dir, k));
  await t.rejects(cache.use('gone', async () => undefined), { code: 'ENOENT' });
  await t.rejects(cache.use('gone', async () => undefined), { code: 'ENOENT' }, 'tried again, not a cached failure');
  const a = await cache.use('a', async (fh) => fh);
  await new Promise((r) => setImmediate(r));
  t.equal(cache.size, 1);
  await cache.close();
  t.notOk(isOpen(a));
  t.equal(cache.size, 0);
});
