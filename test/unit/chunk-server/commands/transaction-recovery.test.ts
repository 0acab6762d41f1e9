// What outlives a request on an in-process server: expiry of prepared transactions (also
// across a restart), the transaction log, and what start-up makes of a crash's leftovers.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { charge, txCharge } from '../../../../src/storage/index.js';
import { bytes } from '../../../support/data.js';
import { call } from '../../../support/frames.js';
import { startServer } from '../../../support/in-process.js';
import { tempDir } from '../../../support/temp.js';
import { NO_PREPARED, OK_COMMITTED, OK_PREPARED, OK_ROLLED_BACK, retrieve, txLog } from '../../../support/transactions.js';
import { waitUntil } from '../../../support/waits.js';

t.test('an expired transaction is rolled back and its space released', async (t) => {
  const dir = await tempDir(t);
  const s = await startServer(t, { spaceMb: 1, transactionTtlS: 1 }, dir);
  const data = bytes(800 * 1024);
  const tx = { chunk_id: 'exp', transaction_id: '99' };
  t.same(await call(s.port, { command: 'prepare_chunk', ...tx, file_path: '/f', data }), OK_PREPARED);
  t.match(await call(s.port, { command: 'check_space', size: 800 * 1024 }), { status: 'error', message: 'insufficient_space' });
  await waitUntil('expiry', async () => (await call(s.port, { command: 'check_space', size: 800 * 1024 })).status === 'ok');
  t.same(await readdir(join(s.store.dir, '.prepared')), [], 'files removed');
  t.same(await call(s.port, { command: 'commit_chunk', ...tx }), NO_PREPARED, 'an expired transaction cannot commit');
  t.same(await call(s.port, { command: 'rollback_chunk', ...tx }), OK_ROLLED_BACK);
  const expire = (await txLog(dir)).find((l) => l.msg === 'EXPIRE');
  t.match(expire, { kind: 'chunk', transaction_id: '99', chunk_id: 'exp', size: data.length, server_id: 'test1' });
});

t.test('expiry counts from the prepare, across a restart', async (t) => {
  const dir = await tempDir(t);
  const first = await startServer(t, {}, dir);
  await call(first.port, { command: 'prepare_chunk', chunk_id: 'old', transaction_id: '1', file_path: '/f', data: bytes(100) });
  const prepared = join(first.store.dir, '.prepared');
  await first.stop();
  // Back-date the prepare by an hour while the server is down.
  const HOUR_MS = 3_600_000;
  for (const name of (await readdir(prepared)).filter((n) => n.endsWith('.json'))) {
    const sidecar = JSON.parse(await readFile(join(prepared, name), 'utf8'));
    await writeFile(join(prepared, name), JSON.stringify({ ...sidecar, created_at: sidecar.created_at - HOUR_MS }));
  }
  const second = await startServer(t, { transactionTtlS: 4 }, dir);
  await waitUntil('expiry', async () => second.store.transactions.count === 0);
  t.equal(second.store.space.used, 0, 'space released');
  const expire = (await txLog(dir)).find((l) => l.msg === 'EXPIRE');
  t.ok(expire && expire.age_ms >= HOUR_MS, 'expired by its age since the prepare, not since the restart');
});

t.test('the transaction log records each step', async (t) => {
  const dir = await tempDir(t);
  const s = await startServer(t, {}, dir);
  await call(s.port, { command: 'store_chunk', chunk_id: 'L', file_path: '/f', data: bytes(10) });
  await call(s.port, { command: 'prepare_chunk', chunk_id: 'L', transaction_id: 't1', file_path: '/f', data: bytes(20) });
  await call(s.port, { command: 'commit_chunk', chunk_id: 'L', transaction_id: 't1' });
  await call(s.port, { command: 'prepare_append', chunk_id: 'L', transaction_id: 't2', data: bytes(5), offset: 20 });
  await call(s.port, { command: 'rollback_append', chunk_id: 'L', transaction_id: 't2' });
  await call(s.port, { command: 'prepare_append', chunk_id: 'L', transaction_id: 't3', data: bytes(5), offset: 99 });
  const lines = (await txLog(dir)).map(({ msg, kind, transaction_id, chunk_id, size, data_bytes, replaced_bytes, reason }) =>
    JSON.parse(JSON.stringify({ msg, kind, transaction_id, chunk_id, size, data_bytes, replaced_bytes, reason })),
  );
  t.same(lines, [
    { msg: 'START', kind: 'chunk', transaction_id: 't1', chunk_id: 'L', data_bytes: 20 },
    { msg: 'PREPARE', kind: 'chunk', transaction_id: 't1', chunk_id: 'L', size: 20 },
    { msg: 'COMMIT', kind: 'chunk', transaction_id: 't1', chunk_id: 'L', size: 20, replaced_bytes: 10 },
    { msg: 'START', kind: 'append', transaction_id: 't2', chunk_id: 'L', data_bytes: 5 },
    // A prepared append holds only its record (storage v2): its size is the record's.
    { msg: 'PREPARE', kind: 'append', transaction_id: 't2', chunk_id: 'L', size: 5 },
    { msg: 'ROLLBACK', kind: 'append', transaction_id: 't2', chunk_id: 'L', size: 5, reason: 'client' },
    { msg: 'START', kind: 'append', transaction_id: 't3', chunk_id: 'L', data_bytes: 5 },
    { msg: 'ROLLBACK', kind: 'append', transaction_id: 't3', chunk_id: 'L', size: 0, reason: 'prepare_failed' },
  ]);
});

t.test('start-up sorts out what a crash left in .prepared', async (t) => {
  const dir = await tempDir(t);
  const first = await startServer(t, {}, dir);
  await call(first.port, { command: 'prepare_chunk', chunk_id: 'kept', transaction_id: '1', file_path: '/f', data: bytes(300, 1) });
  await call(first.port, { command: 'prepare_chunk', chunk_id: 'done', transaction_id: '2', file_path: '/f', data: bytes(200, 2) });
  const prepared = join(first.store.dir, '.prepared');
  await first.stop();

  // A commit that renamed its data but died before deleting the sidecar: simulated by
  // renaming by hand. Plus a half-written prepare (data, no sidecar) and a sidecar temp.
  const sidecars = (await readdir(prepared)).filter((n) => n.endsWith('.json'));
  let doneStem = '';
  for (const name of sidecars) {
    if (JSON.parse(await readFile(join(prepared, name), 'utf8')).chunk_id === 'done') doneStem = name.slice(0, -5);
  }
  const { rename } = await import('node:fs/promises');
  await rename(join(prepared, `${doneStem}.data`), join(first.store.dir, 'done'));
  await writeFile(join(prepared, 'halfwritten.data'), bytes(5000));
  await writeFile(join(prepared, 'abc.json.tmp'), '{"format":');

  const second = await startServer(t, {}, dir);
  t.equal(second.store.transactions.count, 1, 'one transaction still prepared');
  t.equal(second.store.space.used, txCharge(1, 300) + charge(200), 'prepared bytes and chunks counted, leftovers not');
  t.equal((await readdir(prepared)).length, 3, 'leftovers removed: the kept transaction has its data, checksums and sidecar');
  t.match(await call(second.port, { command: 'commit_chunk', chunk_id: 'done', transaction_id: '2' }), OK_COMMITTED, 'the finished commit is known');
  t.match(await call(second.port, { command: 'commit_chunk', chunk_id: 'kept', transaction_id: '1' }), OK_COMMITTED);
  t.same(await retrieve(second.port, 'kept'), bytes(300, 1));
  t.same(await retrieve(second.port, 'done'), bytes(200, 2));
});

t.test('the transaction log file appears with the first transaction; a bad path fails at start-up', async (t) => {
  const dir = await tempDir(t);
  const s = await startServer(t, {}, dir);
  await call(s.port, { command: 'store_chunk', chunk_id: 'plain', file_path: '/f', data: bytes(10) });
  t.notOk((await readdir(dir)).includes('transactions.log'), 'no empty log for a server without transactions');
  await call(s.port, { command: 'rollback_chunk', chunk_id: 'plain', transaction_id: '1' });
  await call(s.port, { command: 'prepare_chunk', chunk_id: 'plain', transaction_id: '2', file_path: '/f', data: bytes(10) });
  t.equal((await txLog(dir)).length, 2, 'START and PREPARE');

  const blocker = join(dir, 'not-a-dir');
  await writeFile(blocker, 'x');
  await t.rejects(startServer(t, { transactionLog: join(blocker, 'tx.log') }, await tempDir(t)), { code: 'EEXIST' });
});
