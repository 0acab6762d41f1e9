// Two-phase commit for whole chunks and appends, on an in-process server (crashes are in
// transactions-crash.test.ts).
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { charge, largestFitting, txCharge } from '../../../../src/storage/index.js';
import { bytes, call, Client, MIB, startServer, tempDir } from '../../../support/helpers.js';

const OK_PREPARED = { status: 'ok', message: 'prepared' };
const OK_COMMITTED = { status: 'ok', message: 'committed' };
const OK_ROLLED_BACK = { status: 'ok', message: 'rolled back' };
const NO_PREPARED = { status: 'error', message: 'No prepared data found for commit' };

async function retrieve(port: number, chunk_id: string): Promise<Buffer | string> {
  const r = await call(port, { command: 'retrieve_chunk', chunk_id });
  return r.status === 'ok' ? Buffer.from(r.data) : r.message;
}

async function txLog(dataDir: string): Promise<Array<Record<string, any>>> {
  const text = await readFile(join(dataDir, 'transactions.log'), 'utf8');
  return text.trim().split('\n').map((line) => JSON.parse(line));
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

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

t.test('prepare_append writes at the offset', async (t) => {
  const s = await startServer(t);
  await call(s.port, { command: 'store_chunk', chunk_id: 'ap', file_path: '/f', data: Buffer.from('hello world') });

  t.test('at the end: appends', async (t) => {
    const tx = { chunk_id: 'ap', transaction_id: 'end' };
    t.same(await call(s.port, { command: 'prepare_append', ...tx, data: Buffer.from('!!'), offset: 11 }), OK_PREPARED);
    t.same(await retrieve(s.port, 'ap'), Buffer.from('hello world'), 'chunk unchanged until commit');
    t.match(await call(s.port, { command: 'commit_append', ...tx }), OK_COMMITTED);
    t.same(await retrieve(s.port, 'ap'), Buffer.from('hello world!!'));
  });
  t.test('inside: overwrites those bytes, may extend', async (t) => {
    const tx = { chunk_id: 'ap', transaction_id: 'mid' };
    t.same(await call(s.port, { command: 'prepare_append', ...tx, data: Buffer.from('WORLD!!!'), offset: 6 }), OK_PREPARED);
    t.match(await call(s.port, { command: 'commit_append', ...tx }), OK_COMMITTED);
    t.same(await retrieve(s.port, 'ap'), Buffer.from('hello WORLD!!!'));
  });
  t.test('beyond the end: bad_offset with the size', async (t) => {
    const r = await call(s.port, { command: 'prepare_append', chunk_id: 'ap', transaction_id: 'far', data: Buffer.from('x'), offset: 15 });
    t.same(r, { status: 'error', message: 'bad_offset', size: 14 });
    t.equal(s.store.space.used, charge(14), 'nothing reserved');
    t.same(await readdir(join(s.store.dir, '.prepared')), []);
  });
  t.test('a missing chunk is empty: offset 0 creates it', async (t) => {
    const tx = { chunk_id: 'fresh', transaction_id: '1' };
    t.same(await call(s.port, { command: 'prepare_append', ...tx, data: Buffer.from('abc'), offset: 0 }), OK_PREPARED);
    t.match(await call(s.port, { command: 'commit_append', ...tx }), OK_COMMITTED);
    t.same(await retrieve(s.port, 'fresh'), Buffer.from('abc'));
  });
});

t.test('commit_append after the base changed is a conflict and leaves the chunk', async (t) => {
  const s = await startServer(t);
  await call(s.port, { command: 'store_chunk', chunk_id: 'cf', file_path: '/f', data: Buffer.from('base') });
  const a = { chunk_id: 'cf', transaction_id: 'a' };
  const b = { chunk_id: 'cf', transaction_id: 'b' };
  await call(s.port, { command: 'prepare_append', ...a, data: Buffer.from('-A'), offset: 4 });
  await call(s.port, { command: 'prepare_append', ...b, data: Buffer.from('-B'), offset: 4 });
  t.match(await call(s.port, { command: 'commit_append', ...a }), OK_COMMITTED);
  t.same(await call(s.port, { command: 'commit_append', ...b }), { status: 'error', message: 'conflict' });
  t.same(await retrieve(s.port, 'cf'), Buffer.from('base-A'));
  t.equal(s.store.space.used, charge(6), 'the conflicting prepare released its space');
  t.same(await call(s.port, { command: 'rollback_append', ...b }), OK_ROLLED_BACK, 'rolling back the loser is ok');

  t.test('other changes of the base conflict too', async (t) => {
    for (const [name, change] of [
      ['append_chunk', { command: 'append_chunk', chunk_id: 'cf', data: Buffer.from('+'), offset: 6, file_path: '/f' }],
      ['store_chunk', { command: 'store_chunk', chunk_id: 'cf', data: Buffer.from('base-A'), file_path: '/f' }],
      ['delete_chunk', { command: 'delete_chunk', chunk_id: 'cf' }],
    ] as const) {
      const size = s.store.sizeOf('cf') ?? 0;
      const tx = { chunk_id: 'cf', transaction_id: `x-${name}` };
      t.same(await call(s.port, { command: 'prepare_append', ...tx, data: Buffer.from('?'), offset: size }), OK_PREPARED);
      t.equal((await call(s.port, change)).status, 'ok');
      const before = await retrieve(s.port, 'cf');
      t.same(await call(s.port, { command: 'commit_append', ...tx }), { status: 'error', message: 'conflict' }, name);
      t.same(await retrieve(s.port, 'cf'), before, `${name}: chunk left as it was`);
    }
  });
});

t.test('append_chunk appends at the true end and creates missing chunks', async (t) => {
  const s = await startServer(t);
  t.match(await call(s.port, { command: 'append_chunk', chunk_id: 'ac', data: Buffer.from('one'), offset: 0, file_path: '/f' }), {
    status: 'ok',
    new_offset: 3,
    version: 1,
  });
  t.match(
    await call(s.port, { command: 'append_chunk', chunk_id: 'ac', data: Buffer.from('two'), offset: 0, file_path: '/f', replica_servers: true }),
    { status: 'ok', new_offset: 6, version: 2 },
    'a stale offset still appends at the end',
  );
  t.match(await call(s.port, { command: 'append_chunk', chunk_id: 'ac', data: Buffer.from('3') }), { status: 'ok', new_offset: 7 });
  t.same(await retrieve(s.port, 'ac'), Buffer.from('onetwo3'));
  t.equal(s.store.space.used, charge(7));
  t.same(await readdir(s.store.dir), ['.meta', 'ac'], 'no temp file left, no .prepared folder until a prepare');
});

t.test('append_chunk respects the space limit', async (t) => {
  const s = await startServer(t, { spaceMb: 1 });
  // Charged by whole blocks: the chunk fills the limit with 10 bytes of its last block free.
  const first = largestFitting(MIB) - 10;
  t.equal((await call(s.port, { command: 'append_chunk', chunk_id: 'big', data: bytes(first) })).status, 'ok');
  t.equal(s.store.space.used, MIB);
  t.equal((await call(s.port, { command: 'append_chunk', chunk_id: 'big', data: bytes(10) })).status, 'ok', 'growth inside the last block costs nothing');
  const r = await call(s.port, { command: 'append_chunk', chunk_id: 'big', data: bytes(1) });
  t.same(r, { status: 'error', message: 'insufficient_space', available_space: 0 }, 'a new block does not fit');
  t.equal(s.store.sizeOf('big'), first + 10);
});

t.test('concurrent append_chunk calls on one chunk are serialized, none lost or torn', async (t) => {
  const s = await startServer(t);
  const N = 30;
  const piece = (i: number): Buffer => Buffer.from(`<${String(i).padStart(3, '0')}:${'x'.repeat(40)}>`);
  const replies = await Promise.all(Array.from({ length: N }, (_, i) => call(s.port, { command: 'append_chunk', chunk_id: 'par', data: piece(i) })));
  const len = piece(0).length;
  t.same(replies.map((r) => r.new_offset).sort((a, b) => a - b), Array.from({ length: N }, (_, i) => (i + 1) * len));
  const all = (await retrieve(s.port, 'par')) as Buffer;
  const seen = new Set<number>();
  for (let off = 0; off < all.length; off += len) {
    const m = /^<(\d{3}):x{40}>$/.exec(all.subarray(off, off + len).toString());
    t.ok(m, 'record intact');
    seen.add(Number(m![1]));
  }
  t.equal(seen.size, N);
});

t.test('50 concurrent appenders with prepare_append / commit_append, retrying on conflict', async (t) => {
  const s = await startServer(t);
  const base = Buffer.from('BASE-RECORD|');
  await call(s.port, { command: 'store_chunk', chunk_id: 'log', file_path: '/log', data: base });
  const CLIENTS = 50;
  const MAX_ATTEMPTS = 200;
  const REC = 32;
  const record = (i: number): Buffer => Buffer.from(`[client-${String(i).padStart(2, '0')}:`.padEnd(REC - 1, '.') + ']');
  let conflicts = 0;
  let maxAttempts = 0;

  // A writer learns the end, prepares there, and confirms the end did not move before it
  // commits (a prepare at a stale, smaller offset would overwrite, as in the reference); a
  // commit racing another commit gets `conflict` and starts over.
  async function appender(i: number): Promise<boolean> {
    const c = await Client.connect(s.port, t);
    try {
      for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
        maxAttempts = Math.max(maxAttempts, attempt);
        const tx = { chunk_id: 'log', transaction_id: `${i}-${attempt}` };
        const end = (await c.call({ command: 'retrieve_chunk', chunk_id: 'log' })).data.length;
        const p = await c.call({ command: 'prepare_append', ...tx, data: record(i), offset: end });
        if (p.status !== 'ok') throw new Error(`unexpected reply ${JSON.stringify(p)}`);
        if ((await c.call({ command: 'retrieve_chunk', chunk_id: 'log' })).data.length !== end) {
          await c.call({ command: 'rollback_append', ...tx });
          continue;
        }
        const r = await c.call({ command: 'commit_append', ...tx });
        if (r.status === 'ok') return true;
        if (r.message !== 'conflict') throw new Error(`unexpected reply ${JSON.stringify(r)}`);
        conflicts++;
      }
      return false;
    } finally {
      c.close();
    }
  }

  const committed = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => appender(i)));
  const winners = new Set(committed.flatMap((ok, i) => (ok ? [record(i).toString()] : [])));
  t.comment(`${winners.size} of ${CLIENTS} committed, ${conflicts} conflicts, at most ${maxAttempts} attempts by one client`);
  // Each failed attempt of a writer coincides with another writer's successful commit, so
  // no writer needs more than CLIENTS attempts; MAX_ATTEMPTS only bounds a broken server.
  t.equal(winners.size, CLIENTS, 'every appender committed within its retries');
  t.ok(conflicts > 0, 'conflicts were detected and retried');
  const final = (await retrieve(s.port, 'log')) as Buffer;
  t.same(final.subarray(0, base.length), base, 'base intact');
  t.equal(final.length, base.length + winners.size * REC, 'exactly one record per committed append');
  const seen = new Set<string>();
  for (let off = base.length; off < final.length; off += REC) {
    const rec = final.subarray(off, off + REC).toString();
    t.ok(winners.has(rec), 'an intact record of a committed append');
    seen.add(rec);
  }
  t.same([...seen].sort(), [...winners].sort(), 'every committed append present once');
  t.equal(s.store.space.used, charge(final.length), 'no prepared bytes left behind');
  t.same(await readdir(join(s.store.dir, '.prepared')), []);
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

t.test('an expired transaction is rolled back and its space released', async (t) => {
  const dir = await tempDir(t);
  const s = await startServer(t, { spaceMb: 1, transactionTtlS: 1 }, dir);
  const data = bytes(800 * 1024);
  const tx = { chunk_id: 'exp', transaction_id: '99' };
  t.same(await call(s.port, { command: 'prepare_chunk', ...tx, file_path: '/f', data }), OK_PREPARED);
  t.match(await call(s.port, { command: 'check_space', size: 800 * 1024 }), { status: 'error', message: 'insufficient_space' });
  await waitFor('expiry', async () => (await call(s.port, { command: 'check_space', size: 800 * 1024 })).status === 'ok');
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
  await waitFor('expiry', async () => second.store.transactions.count === 0, 15_000);
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
