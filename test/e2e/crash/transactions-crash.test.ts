// Prepared transactions and appends across kill -9: real child processes of bin/chunkserver
// (built dist/), restarted on the same data dir and server_id.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { charge } from '../../../src/storage/index.js';
import { bytes, MIB } from '../../support/data.js';
import { call, Client } from '../../support/frames.js';
import { spawnServer, type ChildServer } from '../../support/processes.js';
import { tempDir } from '../../support/temp.js';
import { retrieve } from '../../support/transactions.js';
import { eventually } from '../../support/waits.js';
import { chunkIdOfFile } from '../../support/chunk-files.js';

const SERVER_ID = 'crash1';
const SPACE_MB = 256;

function args(dataDir: string): string[] {
  return ['--server_id', SERVER_ID, '--data_dir', dataDir, '--no_master', '--space', String(SPACE_MB)];
}

async function kill9(t: Test, server: ChildServer): Promise<void> {
  server.proc.kill('SIGKILL');
  t.equal(await server.exited, 'SIGKILL', 'killed');
}

// A temp file lives only while the request is in flight: look often.
async function tempAppears(dir: string, suffix = '.tmp', timeoutMs = 10_000): Promise<boolean> {
  return eventually(async () => (await readdir(dir)).some((n) => n.endsWith(suffix)), timeoutMs, 1);
}

/** Bytes the server counts as used, found from check_space's answer for a size that cannot fit. */
async function usedBytes(port: number): Promise<number> {
  const r = await call(port, { command: 'check_space', size: SPACE_MB * MIB + 1 });
  return SPACE_MB * MIB - r.available_space;
}

t.test('kill -9 right after prepared: after a restart the commits yield the prepared bytes', async (t) => {
  const dir = await tempDir(t);
  const first = await spawnServer(t, args(dir), dir);
  const whole = bytes(3 * MIB, 11);
  const tail = bytes(1000, 12);
  await call(first.port, { command: 'store_chunk', chunk_id: 'app', file_path: '/f', data: Buffer.from('base') });
  await call(first.port, { command: 'store_chunk', chunk_id: 'moved', file_path: '/f', data: Buffer.from('base') });
  const prepares = [
    { command: 'prepare_chunk', chunk_id: 'whole', transaction_id: '1700000000001', file_path: '/f', data: whole },
    { command: 'prepare_append', chunk_id: 'app', transaction_id: '1700000000002', data: tail, offset: 4 },
    { command: 'prepare_append', chunk_id: 'moved', transaction_id: '1700000000003', data: tail, offset: 4 },
  ];
  for (const p of prepares) t.same(await call(first.port, p), { status: 'ok', message: 'prepared' }, p.command);
  // Changes the base of the last prepared append before the crash.
  t.match(await call(first.port, { command: 'append_chunk', chunk_id: 'moved', data: Buffer.from('!'), offset: 0 }), { status: 'ok', new_offset: 5 });
  t.ok(await eventually(() => /"client_offset":0,"offset":4[^\n]*append offset mismatch/.test(first.stdout())), 'a stale append offset is logged');
  const usedBefore = await usedBytes(first.port);
  await kill9(t, first);

  const second = await spawnServer(t, args(dir), dir);
  t.equal(second.port, first.port, 'same port from server_info.json');
  t.equal(await usedBytes(second.port), usedBefore, 'prepared bytes still count against the space limit');
  t.match(second.stdout(), /"prepared":3[^\n]*reloaded prepared transactions/);

  t.match(await call(second.port, { command: 'commit_chunk', chunk_id: 'whole', transaction_id: '1700000000001' }), {
    status: 'ok',
    message: 'committed',
  });
  t.same(await retrieve(second.port, 'whole'), whole);
  t.match(await call(second.port, { command: 'commit_append', chunk_id: 'app', transaction_id: '1700000000002' }), {
    status: 'ok',
    message: 'committed',
  });
  t.same(await retrieve(second.port, 'app'), Buffer.concat([Buffer.from('base'), tail]));
  t.same(
    await call(second.port, { command: 'commit_append', chunk_id: 'moved', transaction_id: '1700000000003' }),
    { status: 'error', message: 'conflict', size: 5 },
    'an append whose base changed before the crash still conflicts, naming the end',
  );
  t.same(await retrieve(second.port, 'moved'), Buffer.from('base!'));
  t.equal(await usedBytes(second.port), charge(whole.length) + charge(4 + tail.length) + charge(5), 'no prepared bytes left over');
});

t.test('kill -9 during commits: each chunk is wholly the old or wholly the new version', async (t) => {
  const dir = await tempDir(t);
  const SIZE = 8 * MIB;
  const ITERATIONS = 5;
  let server = await spawnServer(t, args(dir), dir);
  let current = bytes(SIZE, 100);
  t.equal((await call(server.port, { command: 'store_chunk', chunk_id: 'big', file_path: '/f', data: current })).status, 'ok');
  const outcomes = { old: 0, new: 0 };

  for (let i = 0; i < ITERATIONS; i++) {
    const next = bytes(SIZE, 101 + i);
    const tx = { chunk_id: 'big', transaction_id: `17000000${i}` };
    t.same(await call(server.port, { command: 'prepare_chunk', ...tx, file_path: '/f', data: next }), { status: 'ok', message: 'prepared' });
    const c = await Client.connect(server.port, t);
    c.send({ command: 'commit_chunk', ...tx });
    await new Promise((r) => setTimeout(r, Math.random() * 12));
    await kill9(t, server);
    c.close();

    server = await spawnServer(t, args(dir), dir);
    const after = await retrieve(server.port, 'big');
    const isOld = Buffer.isBuffer(after) && after.equals(current);
    const isNew = Buffer.isBuffer(after) && after.equals(next);
    t.ok(isOld || isNew, `iteration ${i}: whole old or whole new version`);
    outcomes[isNew ? 'new' : 'old']++;

    // The transaction is never lost: either it committed, or it is still prepared.
    const again = await call(server.port, { command: 'commit_chunk', ...tx });
    if (isOld) t.match(again, { status: 'ok', message: 'committed' }, 'still prepared: commits now');
    else t.ok(again.status === 'ok' || again.message === 'No prepared data found for commit', 'already committed');
    t.ok((await retrieve(server.port, 'big') as Buffer).equals(next), 'new version after the commit');
    current = next;
    t.equal(await usedBytes(server.port), charge(SIZE), 'space counts exactly one version');
  }
  t.comment(`killed before the rename ${outcomes.old} times, after it ${outcomes.new} times`);
  const leftovers = (await readdir(join(dir, SERVER_ID))).filter((n) => n !== 'big' && n !== '.prepared' && n !== '.meta');
  t.same(leftovers, [], 'no temp files');
});

t.test('kill -9 during append_chunk: the chunk is the old bytes or old + data, never a torn append', async (t) => {
  const dir = await tempDir(t);
  const chunkDir = join(dir, SERVER_ID);
  let server = await spawnServer(t, args(dir), dir);
  let current = bytes(16 * MIB, 200);
  await call(server.port, { command: 'store_chunk', chunk_id: 'grow', file_path: '/f', data: current });
  // Kill while the 4 MiB arrive, as soon as the copy of the chunk shows up ('copy'), at
  // random moments, and right after the reply ('reply'), when the append must have landed.
  const delaysMs: Array<number | 'copy' | 'reply'> = [10, 'copy', 40 + Math.random() * 100, 'reply'];
  let midCopy = 0;

  for (const [i, delay] of delaysMs.entries()) {
    const data = bytes(4 * MIB, 201 + i);
    const c = await Client.connect(server.port, t);
    c.send({ command: 'append_chunk', chunk_id: 'grow', data, offset: current.length, file_path: '/f' });
    if (delay === 'reply') t.match(await c.next(), { status: 'ok', new_offset: current.length + data.length });
    else if (delay === 'copy') t.ok(await tempAppears(chunkDir), 'the append builds its copy under a temp name');
    else await new Promise((r) => setTimeout(r, delay));
    await kill9(t, server);
    c.close();
    if ((await readdir(chunkDir)).some((n) => n.endsWith('.tmp'))) midCopy++;

    server = await spawnServer(t, args(dir), dir);
    const after = (await retrieve(server.port, 'grow')) as Buffer;
    const appended = Buffer.concat([current, data]);
    t.ok(after.equals(current) || after.equals(appended), `kill at ${delay}: ${after.length} bytes, whole old or whole appended`);
    if (delay === 'reply') t.ok(after.equals(appended), 'an acknowledged append survives kill -9');
    current = after;
    t.equal(await usedBytes(server.port), charge(current.length));
    t.same((await readdir(chunkDir)).map(chunkIdOfFile), ['.meta', 'grow'], 'temp copies of an unfinished append removed');
    t.same((await readdir(join(chunkDir, '.meta'))).filter((n) => n !== '.last-scrub').sort(), ['chunks.mdb', 'chunks.mdb-lock', 'wal-0.log', 'wal-1.log'], 'and only the metadata store and its log in .meta');
  }
  // The kill once the copy showed up is midway by construction; it must have found the copy still there.
  t.ok(midCopy >= 1, `killed with a half-built copy on disk ${midCopy} times of ${delaysMs.length}`);
});

t.test('kill -9 during a prepare: after a restart nothing of it remains', async (t) => {
  const dir = await tempDir(t);
  const prepared = join(dir, SERVER_ID, '.prepared');
  const server = await spawnServer(t, args(dir), dir);
  const tx = { chunk_id: 'half', transaction_id: '1700000000009' };
  const c = await Client.connect(server.port, t);
  c.send({ command: 'prepare_chunk', ...tx, file_path: '/f', data: bytes(32 * MIB, 9) });
  t.ok(await tempAppears(prepared, '.data'), 'the prepare started writing its data');
  await kill9(t, server);
  c.close();

  const restarted = await spawnServer(t, args(dir), dir);
  t.same(await readdir(prepared), [], 'the half-written prepare was removed');
  t.equal(await usedBytes(restarted.port), 0, 'and holds no space');
  t.same(await call(restarted.port, { command: 'commit_chunk', ...tx }), { status: 'error', message: 'No prepared data found for commit' });
});
