// Checksums, verified retrieves, quarantine and corrupt-chunk reporting.
import { copyFile, readdir, readFile, rename, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChunkStore } from '../../../src/storage/index.js';
import t, { type Test } from 'tap';
import { BLOCK_BYTES, sumsOfBuffer } from '../../../src/storage/index.js';
import { charge, largestFitting } from '../../../src/storage/index.js';
import { bytes, flipByte, MIB } from '../../support/data.js';
import { call, Client } from '../../support/frames.js';
import { startLoggedServer, type LogLine } from '../../support/in-process.js';
import { tempDir } from '../../support/temp.js';
import { chunkFile } from '../../support/chunk-files.js';

async function quarantined(chunkDir: string): Promise<Array<{ entry: string; files: string[]; info: LogLine }>> {
  const root = join(chunkDir, '.quarantine');
  const entries = await readdir(root).catch(() => [] as string[]);
  return Promise.all(
    entries.map(async (entry) => ({
      entry,
      files: (await readdir(join(root, entry))).sort(),
      info: JSON.parse(await readFile(join(root, entry, 'info.json'), 'utf8')),
    })),
  );
}

async function retrieve(port: number, chunkId: string): Promise<LogLine> {
  return call(port, { command: 'retrieve_chunk', chunk_id: chunkId });
}

/** The recorded sums of a chunk (its metadata record) equal the sums of its bytes. */
async function sumsMatchFile(t: Test, store: ChunkStore, chunkId: string): Promise<void> {
  const sums = store.sumsOf(chunkId);
  const data = (await readFile(join(store.dir, chunkId))).subarray(0, sums?.size ?? 0);
  t.ok(sums, `${chunkId}: has a record`);
  if (!sums) return;
  t.equal(sums.size, data.length, `${chunkId}: sums cover the chunk`);
  t.same([...sums.crcs], [...(await sumsOfBuffer(data))], `${chunkId}: sums are those of the bytes`);
}

const SIZE = 5 * BLOCK_BYTES + 1234;

t.test('one flipped byte: corrupt_chunk, quarantine, space back, reported until acknowledged', async (t) => {
  const dir = await tempDir(t);
  const chunkDir = join(dir, 'test1');
  const { server, logs } = await startLoggedServer(t, dir, { spaceMb: 1 });
  const data = bytes(SIZE, 7);
  t.match(await call(server.port, { command: 'store_chunk', chunk_id: 'c1', data }), { status: 'ok', chunk_id: 'c1', replicas: 0 });
  t.match(await call(server.port, { command: 'store_chunk', chunk_id: 'good', data: bytes(1000) }), { status: 'ok', chunk_id: 'good', replicas: 0 });
  await sumsMatchFile(t, server.store, 'c1');
  t.ok((await readFile(join(chunkDir, 'c1'))).equals(data), 'the chunk file holds the plain bytes');
  t.same(await call(server.port, { command: 'check_space', size: largestFitting(MIB - charge(SIZE) - charge(1000)) }), { status: 'ok' });

  await flipByte(join(chunkDir, 'c1'), 3 * BLOCK_BYTES + 17);
  t.same(await retrieve(server.port, 'c1'), { status: 'error', message: 'corrupt_chunk' });

  t.notOk((await readdir(chunkDir)).includes('c1'), 'gone from the chunk directory');
  const [q, ...more] = await quarantined(chunkDir);
  t.equal(more.length, 0);
  t.match(q!.entry, /^\d+-[0-9a-f]+-c1$/);
  t.same(q!.files, ['data', 'info.json'], 'chunk kept for an operator');
  t.same(q!.info.block_crcs, [...(await sumsOfBuffer(data))], 'with its checksums');
  t.match(q!.info, { chunk_id: 'c1', found_by: 'retrieve', reason: /block 3 \(offset 196608\)/, size: SIZE });
  const flipped = Buffer.from(data);
  flipped[3 * BLOCK_BYTES + 17]! ^= 0x5a;
  t.ok((await readFile(join(chunkDir, '.quarantine', q!.entry, 'data'))).equals(flipped), 'moved as found');

  t.same(await call(server.port, { command: 'check_space', size: largestFitting(MIB - charge(1000)) }), { status: 'ok' }, 'its space is back');
  t.equal(server.store.space.used, charge(1000));
  t.same(server.store.corruptChunks(), ['c1'], 'listed for the next heartbeat');
  t.match(
    logs.find((l) => l.level === 50 && l.chunk_id === 'c1'),
    { msg: 'corrupt chunk moved to quarantine', found_by: 'retrieve', quarantined: true },
    'logged at error with the chunk id',
  );
  t.same(await retrieve(server.port, 'c1'), { status: 'error', message: 'corrupt_chunk' }, 'asked again before a master has heard of it: still corrupt_chunk');
  const good = await retrieve(server.port, 'good');
  t.ok(Buffer.from(good.data).equals(bytes(1000)), 'other chunks still served');

  // Reported until the master has seen it, also across a restart.
  await server.stop();
  const again = await startLoggedServer(t, dir, { spaceMb: 1 });
  t.same(again.server.store.corruptChunks(), ['c1'], 'still to report after a restart');
  t.equal(again.server.store.space.used, charge(1000), 'quarantine not counted in used');
  await again.server.store.acknowledgeCorrupt(['c1', 'unknown']);
  t.same(again.server.store.corruptChunks(), []);
  t.same(await retrieve(again.server.port, 'c1'), { status: 'error', message: 'chunk_not_found' }, 'once a master has heard of it, the chunk is simply not here');
  await again.server.stop();
  const third = await startLoggedServer(t, dir, { spaceMb: 1 });
  t.same(third.server.store.corruptChunks(), [], 'an acknowledged report is not repeated after a restart');
});

t.test('a good copy stored again replaces the report; a second corruption gets its own entry', async (t) => {
  const dir = await tempDir(t);
  const chunkDir = join(dir, 'test1');
  const { server } = await startLoggedServer(t, dir);
  const data = bytes(SIZE, 9);
  for (let round = 0; round < 2; round++) {
    await call(server.port, { command: 'store_chunk', chunk_id: 'r', data, replica_servers: true });
    await flipByte(join(chunkDir, 'r'), round);
    t.same(await retrieve(server.port, 'r'), { status: 'error', message: 'corrupt_chunk' });
    t.same(server.store.corruptChunks(), ['r']);
  }
  t.equal((await quarantined(chunkDir)).length, 2, 'both findings kept');
  t.match(await call(server.port, { command: 'store_chunk', chunk_id: 'r', data, replica_servers: true }), { status: 'ok', chunk_id: 'r' });
  t.same(server.store.corruptChunks(), [], 'the re-replicated copy is good: nothing to report');
  t.ok(Buffer.from((await retrieve(server.port, 'r')).data).equals(data));
});

t.test('damage done while the server is down is found after a restart, not blessed', async (t) => {
  const dir = await tempDir(t);
  const chunkDir = join(dir, 'test1');
  const first = await startLoggedServer(t, dir);
  await call(first.server.port, { command: 'store_chunk', chunk_id: 'down', data: bytes(SIZE, 3) });
  await first.server.stop();
  await flipByte(join(chunkDir, 'down'), SIZE - 1);
  const { server, logs } = await startLoggedServer(t, dir);
  t.notOk(logs.some((l) => l.msg === 'checksums recomputed from the chunk as it is'), 'the sums still name this file: kept');
  t.same(await retrieve(server.port, 'down'), { status: 'error', message: 'corrupt_chunk' });
  t.same(server.store.corruptChunks(), ['down']);
});

t.test('a chunk file shorter than its committed length is corrupt, found by a read or at start-up', async (t) => {
  const dir = await tempDir(t);
  const chunkDir = join(dir, 'test1');
  const first = await startLoggedServer(t, dir);
  for (const id of ['short', 'downshort']) await call(first.server.port, { command: 'store_chunk', chunk_id: id, data: bytes(SIZE) });
  await truncate(join(chunkDir, 'short'), SIZE - 1);
  t.same(await retrieve(first.server.port, 'short'), { status: 'error', message: 'corrupt_chunk' });
  await first.server.stop();
  await truncate(join(chunkDir, 'downshort'), SIZE - 2);
  const { server } = await startLoggedServer(t, dir);
  const found = await quarantined(chunkDir);
  t.match(found.find((q) => q.info.chunk_id === 'short')?.info, { reason: `size ${SIZE - 1}, checksums cover ${SIZE}` });
  t.match(found.find((q) => q.info.chunk_id === 'downshort')?.info, { found_by: 'start-up', reason: `file holds ${SIZE - 2} of ${SIZE} committed bytes` });
  t.same(server.store.corruptChunks().sort(), ['downshort', 'short']);
  t.equal(server.store.space.used, 0);
});

t.test('missing or stale records are rebuilt from the chunk at start-up (a crash between rename and commit, chunks copied in)', async (t) => {
  const dir = await tempDir(t);
  const chunkDir = join(dir, 'test1');
  const first = await startLoggedServer(t, dir);
  for (const id of ['copied', 'orphan']) await call(first.server.port, { command: 'store_chunk', chunk_id: id, data: bytes(SIZE, id.length) });
  await first.server.stop();
  // A chunk with no record: one an operator copied in.
  await writeFile(join(chunkDir, 'handmade'), bytes(SIZE, 8));
  // A new file in place of the old (a new inode): what a crash after the rename of a store
  // and before its record commit leaves.
  await copyFile(join(chunkDir, 'copied'), join(chunkDir, 'copied.new'));
  await rename(join(chunkDir, 'copied.new'), join(chunkDir, 'copied'));
  await unlink(join(chunkDir, 'orphan'));
  await writeFile(join(chunkDir, '.meta', '.tmp-0123'), 'half');

  const { server, logs } = await startLoggedServer(t, dir, {}, 'debug');
  const recomputed = logs.filter((l) => l.msg === 'checksums computed from the chunk as it is');
  t.same(recomputed.map((l) => [l.chunk_id, l.why]).sort(), [
    ['copied', 'record names another file'],
    ['handmade', 'no record'],
  ]);
  t.match(logs.find((l) => l.msg === 'recomputed checksums of chunks whose records were missing or stale'), { level: 40, chunks: 2 });
  t.same((await readdir(join(chunkDir, '.meta'))).filter((n) => n !== '.last-scrub').sort(), ['chunks.mdb', 'chunks.mdb-lock', 'wal-0.log', 'wal-1.log'], 'temp removed');
  t.same(server.store.chunkIds().sort(), ['copied', 'handmade'], 'the orphan record dropped');
  t.equal(server.store.versionOf('copied'), 2, 'the file renamed in is the next version');
  t.equal(server.store.versionOf('handmade'), 1);
  for (const [id, seed] of [['handmade', 8], ['copied', 6]] as const) {
    await sumsMatchFile(t, server.store, id);
    t.ok(Buffer.from((await retrieve(server.port, id)).data).equals(bytes(SIZE, seed)));
  }
});

t.test('appends and two-phase appends keep the checksums right; a two-phase append below the end is refused', async (t) => {
  const dir = await tempDir(t);
  const chunkDir = join(dir, 'test1');
  const { server } = await startLoggedServer(t, dir);
  // A model of each chunk; writes at offsets around block boundaries, inside and at the end.
  const model = new Map<string, Buffer>();
  let seed = 1;
  const cases: Array<[string, number | 'end', number]> = [
    ['a', 'end', 10],
    ['a', 'end', BLOCK_BYTES - 10],
    ['a', 'end', 1],
    ['a', 'end', 2 * BLOCK_BYTES + 5],
    ['a', 0, 3],
    ['a', BLOCK_BYTES - 2, 4],
    ['a', 5, 2 * BLOCK_BYTES],
    ['a', 'end', 0],
    ['a', 3 * BLOCK_BYTES + 1, BLOCK_BYTES - 1],
    ['b', 0, 2 * BLOCK_BYTES],
    ['b', 2 * BLOCK_BYTES, BLOCK_BYTES],
    ['b', BLOCK_BYTES, 10],
  ];
  for (const [i, [id, at, length]] of cases.entries()) {
    const data = bytes(length, ++seed);
    const old = model.get(id) ?? Buffer.alloc(0);
    const offset = at === 'end' ? old.length : at;
    const next = Buffer.alloc(Math.max(old.length, offset + length));
    old.copy(next);
    data.copy(next, offset);
    if (at === 'end' && i % 2 === 0) {
      t.match(await call(server.port, { command: 'append_chunk', chunk_id: id, data }), { status: 'ok', new_offset: next.length });
    } else if (offset < old.length) {
      // Below the end: refused (it would overwrite another producer's record), nothing changes.
      const r = await call(server.port, { command: 'prepare_append', chunk_id: id, transaction_id: `t${i}`, data, offset });
      t.same(r, { status: 'error', message: 'conflict', size: old.length });
      await sumsMatchFile(t, server.store, id);
      continue;
    } else {
      const tx = { chunk_id: id, transaction_id: `t${i}` };
      t.same(await call(server.port, { command: 'prepare_append', ...tx, data, offset }), { status: 'ok', message: 'prepared' });
      t.match(await call(server.port, { command: 'commit_append', ...tx }), { status: 'ok', message: 'committed' });
    }
    model.set(id, next);
    await sumsMatchFile(t, server.store, id);
    t.ok(Buffer.from((await retrieve(server.port, id)).data).equals(next), `case ${i}: ${id} @${offset} +${length}`);
  }
  const tx = { chunk_id: 'c', transaction_id: 'whole' };
  await call(server.port, { command: 'prepare_chunk', ...tx, data: bytes(SIZE, 77) });
  await call(server.port, { command: 'commit_chunk', ...tx });
  await sumsMatchFile(t, server.store, 'c');
});

t.test('an append never blesses damage: old blocks keep their sums, the tail block\'s sum goes on from its recorded value', async (t) => {
  const dir = await tempDir(t);
  const chunkDir = join(dir, 'test1');
  const { server } = await startLoggedServer(t, dir);
  await call(server.port, { command: 'store_chunk', chunk_id: 'early', data: bytes(SIZE, 1) });
  await flipByte(join(chunkDir, 'early'), 10);
  t.match(await call(server.port, { command: 'append_chunk', chunk_id: 'early', data: bytes(100) }), { status: 'ok', new_offset: SIZE + 100 });
  t.same(await retrieve(server.port, 'early'), { status: 'error', message: 'corrupt_chunk' }, 'damage in an untouched block is still seen');

  // Issue 22 item 3: an append does not read its tail block back (one write per append), so
  // it cannot refuse on damage there; its sum extends the recorded one, so the damage stays
  // a mismatch that the next retrieve (or scrub) finds.
  await call(server.port, { command: 'store_chunk', chunk_id: 'tail', data: bytes(SIZE, 2) });
  await flipByte(join(chunkDir, 'tail'), SIZE - 5);
  t.match(await call(server.port, { command: 'append_chunk', chunk_id: 'tail', data: bytes(100) }), { status: 'ok', new_offset: SIZE + 100 });
  t.same(await retrieve(server.port, 'tail'), { status: 'error', message: 'corrupt_chunk' }, 'damage in the tail block is still seen after the append');
  t.notOk((await readdir(chunkDir)).includes('tail'), 'quarantined by the retrieve');

  await call(server.port, { command: 'store_chunk', chunk_id: 'mid', data: bytes(SIZE, 3) });
  await flipByte(join(chunkDir, 'mid'), SIZE - 7);
  const tx = { chunk_id: 'mid', transaction_id: '1' };
  t.same(await call(server.port, { command: 'prepare_append', ...tx, data: bytes(10), offset: SIZE }), { status: 'ok', message: 'prepared' });
  t.match(await call(server.port, { command: 'commit_append', ...tx }), { status: 'ok', message: 'committed' });
  t.same(await retrieve(server.port, 'mid'), { status: 'error', message: 'corrupt_chunk' }, 'and after a committed prepared append');
  t.same(server.store.corruptChunks().sort(), ['early', 'mid', 'tail']);
  t.equal(server.store.space.used, 0, 'nothing held for the quarantined chunks');
  t.same(await readdir(join(chunkDir, '.prepared')), [], 'no prepared files left');
});

t.test('prepared checksums survive a restart and are installed by the commit', async (t) => {
  const dir = await tempDir(t);
  const chunkDir = join(dir, 'test1');
  const first = await startLoggedServer(t, dir);
  await call(first.server.port, { command: 'store_chunk', chunk_id: 'p', data: bytes(SIZE, 1) });
  await call(first.server.port, { command: 'prepare_append', chunk_id: 'p', transaction_id: 'a', data: bytes(50, 2), offset: SIZE });
  await call(first.server.port, { command: 'prepare_chunk', chunk_id: 'q', transaction_id: 'b', data: bytes(SIZE, 3) });
  await first.server.stop();
  // A prepare from before checksums existed: its sums file is missing. (Prepared appends
  // keep only their record, with its CRC in the sidecar: one sums file, prepare_chunk's.)
  const prepared = join(chunkDir, '.prepared');
  const sums = (await readdir(prepared)).filter((n) => n.endsWith('.crc'));
  t.equal(sums.length, 1);
  await unlink(join(prepared, sums[0]!));
  const { server, logs } = await startLoggedServer(t, dir);
  t.equal(logs.filter((l) => l.msg === 'checksums of a prepared transaction recomputed').length, 1);
  t.match(await call(server.port, { command: 'commit_append', chunk_id: 'p', transaction_id: 'a' }), { status: 'ok', message: 'committed' });
  t.match(await call(server.port, { command: 'commit_chunk', chunk_id: 'q', transaction_id: 'b' }), { status: 'ok', message: 'committed' });
  await sumsMatchFile(t, server.store, 'p');
  await sumsMatchFile(t, server.store, 'q');
  t.equal((await retrieve(server.port, 'p')).data.length, SIZE + 50);
});

t.test('bytes that change under a reply already streaming: the connection closes, no bad data', async (t) => {
  const dir = await tempDir(t);
  const chunkDir = join(dir, 'test1');
  const { server } = await startLoggedServer(t, dir, { spaceMb: 128 });
  const size = 48 * MIB;
  await call(server.port, { command: 'store_chunk', chunk_id: 'big', data: bytes(size, 5) });
  const c = await Client.connect(server.port, t);
  let received = 0;
  let firstData!: () => void;
  const started = new Promise<void>((resolve) => (firstData = resolve));
  // Read the header and the first bytes, then stop reading so the stream stalls mid-way.
  c.socket.removeAllListeners('data');
  let paused = false;
  c.socket.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (!paused) {
      paused = true;
      c.socket.pause();
      firstData();
    }
  });
  c.send({ command: 'retrieve_chunk', chunk_id: 'big' });
  await started;
  await flipByte(chunkFile(chunkDir, 'big'), size - 100);
  c.socket.resume();
  await c.closed();
  t.ok(received > 0 && received < 4 + size, `the frame was cut short (${received} bytes)`);
  t.same(server.store.corruptChunks(), ['big'], 'and the chunk quarantined');
  t.same(await retrieve(server.port, 'big'), { status: 'error', message: 'corrupt_chunk' }, 'the next retrieve says why');
});
