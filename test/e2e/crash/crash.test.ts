import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { charge, largestFitting } from '../../../src/storage/index.js';
import { bytes, MIB } from '../../support/data.js';
import { call, Client } from '../../support/frames.js';
import { spawnServer, stopChild } from '../../support/processes.js';
import { chunkFile, chunkIdOfFile } from '../../support/chunk-files.js';
import { tempDir } from '../../support/temp.js';
import { waitFor } from '../../support/waits.js';

const SPACE_MB = 512;

/** Chunk files and what they are charged (src/storage/space/charges.ts), and what `.meta` (the metadata store) holds. */
async function diskState(chunkDir: string): Promise<{ names: string[]; total: number; meta: string[] }> {
  const names = (await readdir(chunkDir)).filter((n) => n !== '.meta').sort();
  let total = 0;
  for (const n of names) total += charge((await stat(join(chunkDir, n))).size);
  const meta = (await readdir(join(chunkDir, '.meta'))).filter((n) => n !== '.last-scrub').sort();
  return { names, total, meta };
}

/** Bytes allocated on disk under `dir` (blocks, so that a sparse or preallocated file counts what it holds). */
async function diskBytes(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) n += ((await stat(join(e.parentPath, e.name)).catch(() => null))?.blocks ?? 0) * 512;
  }
  return n;
}

t.test('SIGKILL while a 64 MiB store is in flight leaves the chunk absent or whole', async (t) => {
  const dir = await tempDir(t);
  const chunkDir = join(dir, 'data', 'crash1');
  const args = ['--server_id', 'crash1', '--space', String(SPACE_MB), '--data_dir', 'data', '--no_master'];
  const data = bytes(64 * MIB, 3);
  // Kill at different moments: once part of the upload is on disk, once all of it is (while
  // it is flushed and put in place), at fixed delays, and right after the ok reply, when the
  // chunk must be there whole.
  const kills: Array<{ at: 'part' | 'all' | 'reply' } | { at: 'delay'; ms: number }> = [
    { at: 'part' },
    { at: 'all' },
    { at: 'delay', ms: 100 },
    { at: 'delay', ms: 300 },
    { at: 'reply' },
  ];
  let wholeSeen = 0;
  let midway = 0;
  for (const [i, kill] of kills.entries()) {
    const server = await spawnServer(t, args, dir);
    const id = `big${i}`;
    const before = await diskBytes(chunkDir);
    const c = await Client.connect(server.port, t);
    let replied = false;
    const reply = c.next().then((r) => ((replied = r !== null), r));
    c.send({ command: 'store_chunk', chunk_id: id, file_path: '/f', data });
    if (kill.at === 'reply') t.match(await reply, { status: 'ok', chunk_id: id, replicas: 0 });
    else if (kill.at === 'delay') await new Promise((r) => setTimeout(r, kill.ms));
    else {
      const want = kill.at === 'part' ? MIB : data.length;
      await waitFor(`${kill.at} of the upload on disk`, async () => (replied || (await diskBytes(chunkDir)) - before >= want ? true : undefined), 60_000, 2);
    }
    const onDisk = (await diskBytes(chunkDir)) - before;
    server.proc.kill('SIGKILL');
    t.equal(await server.exited, 'SIGKILL');
    c.close();
    // Midway: some of the new bytes were on disk and no reply had come.
    const hit = !replied && onDisk > 0;
    if (hit) midway++;
    if (kill.at === 'part' || kill.at === 'all') t.ok(hit, `the kill once ${kill.at === 'part' ? 'part' : 'all'} of the upload was on disk hit the store midway`);

    const restarted = await spawnServer(t, args, dir);
    const { names, total, meta } = await diskState(chunkDir);
    const when = kill.at === 'delay' ? `${kill.ms} ms` : kill.at;
    t.notOk(names.some((n) => n.startsWith('.')), `no temp file remains (kill at ${when})`);
    t.same(meta, ['chunks.mdb', 'chunks.mdb-lock', 'wal-0.log', 'wal-1.log'], 'only the metadata store and its log in .meta');
    const ids = names.map(chunkIdOfFile);
    t.equal(new Set(ids).size, ids.length, 'one data file per chunk');
    for (const n of ids) t.match(await call(restarted.port, { command: 'retrieve_chunk', chunk_id: n }), { status: 'ok' }, `${n} has a record and is served`);
    if (kill.at === 'reply') t.ok(ids.includes(id), 'an acknowledged store survives kill -9');
    if (ids.includes(id)) {
      t.ok((await readFile(chunkFile(chunkDir, id))).equals(data), 'the chunk, in its one data file, is whole');
      wholeSeen++;
    }
    const available = SPACE_MB * MIB - total;
    t.same(await call(restarted.port, { command: 'check_space', size: largestFitting(available) }), { status: 'ok' }, 'accounting matches the disk');
    t.same(await call(restarted.port, { command: 'check_space', size: largestFitting(available) + 1 }), { status: 'error', message: 'insufficient_space', available_space: available });
    // Stopped gently: its start-up clean-up counts towards coverage.
    t.equal(await stopChild(restarted.proc, restarted.exited), 0);
  }
  t.ok(midway >= 2, `kills that hit a store midway: ${midway} of ${kills.length}`);
  t.comment(`chunks that survived whole: ${wholeSeen} of ${kills.length}`);
});

t.test('the restarted server keeps its port and serves what was stored before', async (t) => {
  const dir = await tempDir(t);
  const args = ['--server_id', 'keep1', '--data_dir', 'data', '--no_master'];
  const first = await spawnServer(t, args, dir);
  t.match(await call(first.port, { command: 'store_chunk', chunk_id: 'k', data: bytes(1234) }), { status: 'ok', chunk_id: 'k', replicas: 0 });
  first.proc.kill('SIGKILL');
  await first.exited;
  const info = JSON.parse(await readFile(join(dir, 'data', 'server_info.json'), 'utf8'));
  t.equal(info.keep1.port, first.port);
  t.equal(info.keep1.data_dir, join(dir, 'data', 'keep1'));
  const second = await spawnServer(t, args, dir);
  t.equal(second.port, first.port, 'same port as recorded in server_info.json');
  const r = await call(second.port, { command: 'retrieve_chunk', chunk_id: 'k' });
  t.ok(Buffer.from(r.data).equals(bytes(1234)));
});

t.test('SIGTERM lets an in-flight store finish, then exits 0', async (t) => {
  const dir = await tempDir(t);
  const server = await spawnServer(t, ['--server_id', 'term1', '--data_dir', 'data', '--no_master'], dir);
  const c = await Client.connect(server.port, t);
  const data = bytes(16 * MIB, 9);
  c.send({ command: 'store_chunk', chunk_id: 't', data });
  const idle = await Client.connect(server.port, t);
  // In flight: part of it is on disk already.
  const chunkDir = join(dir, 'data', 'term1');
  await waitFor('the store under way', async () => ((await diskBytes(chunkDir)) >= MIB ? true : undefined), 60_000, 2);
  server.proc.kill('SIGTERM');
  const reply = await c.next();
  t.match(reply, { status: 'ok', chunk_id: 't', replicas: 0 }, 'in-flight request answered');
  t.equal(await server.exited, 0);
  await idle.closed();
  t.ok((await readFile(chunkFile(join(dir, 'data', 'term1'), 't'))).equals(data));
  t.match(server.stdout(), /"msg":"shutting down"/);
});
