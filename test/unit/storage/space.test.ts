import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { charge, FILE_OVERHEAD_BYTES } from '../../../src/storage/index.js';
import { bytes, MIB } from '../../support/data.js';
import { call } from '../../support/frames.js';
import { startServer } from '../../support/in-process.js';
import { tempDir } from '../../support/temp.js';

/** What the files of the chunk directory are charged, by the rule of src/storage/space/charges.ts. */
async function chargedOnDisk(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) if (entry.isFile()) total += charge((await stat(join(dir, entry.name))).size);
  return total;
}

// Since issue 14 a streamed value reserves space as its bytes arrive, so parallel uploads
// that together pass the limit can each hold a part and fail: at most as many succeed as fit,
// and never more than the limit is used.
t.test('20 parallel stores over the limit: at most as many succeed as fit, the limit holds', async (t) => {
  const dir = await tempDir(t);
  const first = await startServer(t, { spaceMb: 10 }, dir);
  const size = 1.5 * MIB;
  let maxUsed = 0;
  const timer = setInterval(() => (maxUsed = Math.max(maxUsed, first.store.space.used)), 1);
  const replies = await Promise.all(
    Array.from({ length: 20 }, (_, i) => call(first.port, { command: 'store_chunk', chunk_id: `p${i}`, file_path: '/f', data: bytes(size, i + 1) })),
  );
  clearInterval(timer);
  const ok = replies.filter((r) => r.status === 'ok');
  const refused = replies.filter((r) => r.status === 'error');
  t.ok(ok.length >= 1 && ok.length <= Math.floor(10 / 1.5), `${ok.length} of at most six 1.5 MiB chunks fit in 10 MiB`);
  t.ok(refused.every((r) => r.message === 'insufficient_space' && typeof r.available_space === 'number'));
  t.ok(maxUsed <= 10 * MIB, 'used never passed the limit');
  t.equal(first.store.space.used, ok.length * charge(size));
  t.equal(await chargedOnDisk(first.store.dir), ok.length * charge(size));
  await first.stop();

  const again = await startServer(t, { spaceMb: 10 }, dir);
  t.equal(again.store.space.used, await chargedOnDisk(again.store.dir), 'after restart used equals the charge of the files on disk');
  t.equal(again.store.chunkCount, ok.length);
});

t.test('overwriting a chunk counts only the difference', async (t) => {
  const server = await startServer(t, { spaceMb: 1 });
  t.equal((await call(server.port, { command: 'store_chunk', chunk_id: 'o', data: bytes(700 * 1024) })).status, 'ok');
  const grow = await call(server.port, { command: 'store_chunk', chunk_id: 'o', data: bytes(900 * 1024, 2) });
  t.equal(grow.status, 'ok', 'growth of 200 KiB fits though the whole would not');
  t.equal(server.store.space.used, charge(900 * 1024));
  const shrink = await call(server.port, { command: 'store_chunk', chunk_id: 'o', data: bytes(100) });
  t.equal(shrink.status, 'ok');
  t.equal(server.store.space.used, charge(100));
  const tooBig = await call(server.port, { command: 'store_chunk', chunk_id: 'o', data: bytes(MIB + 1) });
  t.same(tooBig, { status: 'error', message: 'insufficient_space', available_space: MIB - charge(100) });
  t.equal(server.store.space.used, charge(100), 'a refused store changes nothing');
  const back = await call(server.port, { command: 'retrieve_chunk', chunk_id: 'o' });
  t.ok(Buffer.from(back.data).equals(bytes(100)), 'the old version is intact');
});

t.test('check_space answers from the accounting', async (t) => {
  const server = await startServer(t, { spaceMb: 1 });
  // A chunk of `size` bytes is charged charge(size): the largest that fits in 1 MiB is one block less.
  t.same(await call(server.port, { command: 'check_space', size: MIB - FILE_OVERHEAD_BYTES }), { status: 'ok' });
  t.same(await call(server.port, { command: 'check_space', size: MIB - FILE_OVERHEAD_BYTES + 1 }), { status: 'error', message: 'insufficient_space', available_space: MIB });
  await call(server.port, { command: 'store_chunk', chunk_id: 'x', data: bytes(1000) });
  t.same(await call(server.port, { command: 'check_space', size: MIB - FILE_OVERHEAD_BYTES }), { status: 'error', message: 'insufficient_space', available_space: MIB - charge(1000) });
});

t.test('start-up counts what is on disk, removes temp files, and ignores nothing else', async (t) => {
  const dir = await tempDir(t);
  const chunkDir = join(dir, 'test1');
  const s = await startServer(t, {}, dir);
  await s.stop();
  await writeFile(join(chunkDir, 'kept'), bytes(5000));
  await writeFile(join(chunkDir, 'not a chunk id'), bytes(300));
  await writeFile(join(chunkDir, '.store-abandoned.tmp'), bytes(7000));
  const server = await startServer(t, { spaceMb: 1 }, dir);
  t.equal(server.store.space.used, charge(5000) + charge(300), 'foreign files still occupy the limit');
  t.same((await readdir(chunkDir)).sort(), ['.meta', 'kept', 'not a chunk id']);
  const largest = MIB - charge(5000) - charge(300) - FILE_OVERHEAD_BYTES;
  t.same(await call(server.port, { command: 'check_space', size: largest }), { status: 'ok' });
  t.match(await call(server.port, { command: 'check_space', size: largest + 1 }), { status: 'error', message: 'insufficient_space' });
});

t.test('a disk over the limit at start-up reports zero available', async (t) => {
  const dir = await tempDir(t);
  const s = await startServer(t, {}, dir);
  await s.stop();
  await writeFile(join(dir, 'test1', 'big'), bytes(2 * MIB));
  const server = await startServer(t, { spaceMb: 1 }, dir);
  t.same(await call(server.port, { command: 'store_chunk', chunk_id: 'n', data: bytes(1) }), { status: 'error', message: 'insufficient_space', available_space: 0 });
  t.same(await call(server.port, { command: 'delete_chunk', chunk_id: 'big' }), { status: 'ok' });
  t.equal(server.store.space.used, 0);
});
