// Two-phase commit of whole chunks (prepare_chunk, commit_chunk, rollback_chunk) on an
// in-process server, and the space prepared data holds. Appends are in append-transactions.test.ts,
// expiry and restarts in transaction-recovery.test.ts, crashes in test/e2e/crash/transactions-crash.test.ts.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { charge, largestFitting, txCharge } from '../../../../src/storage/index.js';
import { bytes, MIB } from '../../../support/data.js';
import { call } from '../../../support/frames.js';
import { startServer } from '../../../support/in-process.js';
import { NO_PREPARED, OK_COMMITTED, OK_PREPARED, OK_ROLLED_BACK, retrieve } from '../../../support/transactions.js';

t.test('prepare_chunk then commit_chunk: retrieve returns the prepared bytes', async (t) => {
  const s = await startServer(t);
  const data = bytes(100_000, 7);
  const tx = { chunk_id: 'c1', transaction_id: '1700000000001' };
  t.same(await call(s.port, { command: 'prepare_chunk', ...tx, file_path: '/f', data }), OK_PREPARED);
  t.equal(await retrieve(s.port, 'c1'), 'chunk_not_found', 'nothing visible before commit');
  t.match(await call(s.port, { command: 'commit_chunk', ...tx }), OK_COMMITTED);
  t.same(await retrieve(s.port, 'c1'), data);
});

t.test('prepare_chunk then rollback_chunk: the chunk never appears', async (t) => {
  const s = await startServer(t);
  const tx = { chunk_id: 'c2', transaction_id: '17' };
  t.same(await call(s.port, { command: 'prepare_chunk', ...tx, file_path: '/f', data: bytes(1000) }), OK_PREPARED);
  t.same(await call(s.port, { command: 'rollback_chunk', ...tx }), OK_ROLLED_BACK);
  t.equal(await retrieve(s.port, 'c2'), 'chunk_not_found');
  t.same(await readdir(join(s.store.dir, '.prepared')), [], 'prepared files removed');
});

t.test('idempotent outcomes', async (t) => {
  const s = await startServer(t);
  const data = bytes(5000, 3);
  const tx = { chunk_id: 'idem', transaction_id: 't1' };
  await call(s.port, { command: 'prepare_chunk', ...tx, file_path: '/f', data });
  t.match(await call(s.port, { command: 'commit_chunk', ...tx }), OK_COMMITTED);

  t.test('a repeated commit of a committed transaction is ok', async (t) => {
    t.match(await call(s.port, { command: 'commit_chunk', ...tx }), OK_COMMITTED);
    t.same(await retrieve(s.port, 'idem'), data);
  });
  t.test('commit of an unknown transaction is the reference error', async (t) => {
    t.same(await call(s.port, { command: 'commit_chunk', chunk_id: 'idem', transaction_id: 'nope' }), NO_PREPARED);
    t.same(await call(s.port, { command: 'commit_append', chunk_id: 'idem', transaction_id: 'nope' }), NO_PREPARED);
    // A transaction belongs to its kind: commit_append does not commit a prepare_chunk.
    t.same(await call(s.port, { command: 'commit_append', ...tx }), NO_PREPARED);
  });
  t.test('rollback of an unknown transaction is ok', async (t) => {
    t.same(await call(s.port, { command: 'rollback_chunk', chunk_id: 'idem', transaction_id: 'nope' }), OK_ROLLED_BACK);
    t.same(await call(s.port, { command: 'rollback_append', chunk_id: 'idem', transaction_id: 'nope' }), OK_ROLLED_BACK);
  });
  t.test('rollback of a rolled back transaction is ok; its commit is the reference error', async (t) => {
    const rb = { chunk_id: 'idem2', transaction_id: 't2' };
    await call(s.port, { command: 'prepare_chunk', ...rb, file_path: '/f', data: bytes(10) });
    t.same(await call(s.port, { command: 'rollback_chunk', ...rb }), OK_ROLLED_BACK);
    t.same(await call(s.port, { command: 'rollback_chunk', ...rb }), OK_ROLLED_BACK);
    t.same(await call(s.port, { command: 'commit_chunk', ...rb }), NO_PREPARED);
  });
  t.test('rollback after commit is already_committed and leaves the data', async (t) => {
    t.same(await call(s.port, { command: 'rollback_chunk', ...tx }), { status: 'error', message: 'already_committed' });
    t.same(await retrieve(s.port, 'idem'), data);
  });
});

t.test('commit_chunk is last-writer-wins', async (t) => {
  const s = await startServer(t);
  await call(s.port, { command: 'prepare_chunk', chunk_id: 'w', transaction_id: 'a', file_path: '/f', data: Buffer.from('AAAA') });
  await call(s.port, { command: 'prepare_chunk', chunk_id: 'w', transaction_id: 'b', file_path: '/f', data: Buffer.from('BB') });
  t.match(await call(s.port, { command: 'commit_chunk', chunk_id: 'w', transaction_id: 'b' }), OK_COMMITTED);
  t.match(await call(s.port, { command: 'commit_chunk', chunk_id: 'w', transaction_id: 'a' }), OK_COMMITTED);
  t.same(await retrieve(s.port, 'w'), Buffer.from('AAAA'));
  t.equal(s.store.space.used, charge(4), 'only the current version is counted');
});

t.test('a repeated prepare of one transaction replaces the earlier one', async (t) => {
  const s = await startServer(t);
  const tx = { chunk_id: 'rp', transaction_id: '1' };
  await call(s.port, { command: 'prepare_chunk', ...tx, file_path: '/f', data: bytes(3000, 1) });
  t.same(await call(s.port, { command: 'prepare_chunk', ...tx, file_path: '/f', data: bytes(2000, 2) }), OK_PREPARED);
  t.equal(s.store.space.used, txCharge(1, 2000), 'space of the first prepare released');
  t.equal((await readdir(join(s.store.dir, '.prepared'))).length, 3, 'one data file, its checksums and one sidecar');
  await call(s.port, { command: 'commit_chunk', ...tx });
  t.same(await retrieve(s.port, 'rp'), bytes(2000, 2));
});

t.test('ids are checked before they become file names', async (t) => {
  const s = await startServer(t);
  for (const transaction_id of ['../x', '.hidden', 'a/b', '']) {
    const r = await call(s.port, { command: 'prepare_chunk', chunk_id: 'ok', transaction_id, file_path: '/f', data: bytes(1) });
    t.same(r, { status: 'error', message: 'invalid_transaction_id' }, transaction_id);
  }
  const r = await call(s.port, { command: 'commit_append', chunk_id: '../etc', transaction_id: '1' });
  t.same(r, { status: 'error', message: 'invalid_chunk_id' });
});

t.test('the space limit holds while prepared data is outstanding', async (t) => {
  const s = await startServer(t, { spaceMb: 1 });
  const half = bytes(600 * 1024);
  t.same(await call(s.port, { command: 'prepare_chunk', chunk_id: 'p1', transaction_id: '1', file_path: '/f', data: half }), OK_PREPARED);
  t.equal(s.store.space.used, txCharge(1, half.length), 'prepared bytes count as used');
  t.match(await call(s.port, { command: 'check_space', size: 600 * 1024 }), { status: 'error', message: 'insufficient_space', available_space: MIB - txCharge(1, half.length) });
  t.match(
    await call(s.port, { command: 'prepare_chunk', chunk_id: 'p2', transaction_id: '2', file_path: '/f', data: half }),
    { status: 'error', message: 'insufficient_space' },
    'a second prepare does not fit',
  );
  t.match(await call(s.port, { command: 'store_chunk', chunk_id: 's', file_path: '/f', data: half }), { status: 'error', message: 'insufficient_space' });
  t.match(await call(s.port, { command: 'append_chunk', chunk_id: 's', data: half }), { status: 'error', message: 'insufficient_space' });
  const third = 300 * 1024;
  t.equal((await call(s.port, { command: 'store_chunk', chunk_id: 'small', file_path: '/f', data: bytes(third) })).status, 'ok');
  t.match(
    await call(s.port, { command: 'prepare_append', chunk_id: 'small', transaction_id: '3', data: bytes(200 * 1024), offset: third }),
    { status: 'error', message: 'insufficient_space' },
    'a prepared append reserves its record, which the growth of the chunk at commit fits in',
  );
  t.same(await call(s.port, { command: 'prepare_append', chunk_id: 'small', transaction_id: '4', data: bytes(10), offset: third }), OK_PREPARED, 'never a copy of the chunk');
  t.equal(s.store.space.used, txCharge(1, half.length) + charge(third) + txCharge(2, 10));
  await call(s.port, { command: 'rollback_append', chunk_id: 'small', transaction_id: '4' });
  t.equal(await retrieve(s.port, 'p2'), 'chunk_not_found');

  t.match(await call(s.port, { command: 'commit_chunk', chunk_id: 'p1', transaction_id: '1' }), OK_COMMITTED);
  t.equal(s.store.space.used, charge(half.length) + charge(third), 'commit converts the reservation, nothing double counted');
  await call(s.port, { command: 'delete_chunk', chunk_id: 'p1' });
  t.same(await call(s.port, { command: 'check_space', size: largestFitting(MIB - charge(third)) }), { status: 'ok' });
});
