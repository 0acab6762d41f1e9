// Appends on an in-process server: prepare_append / commit_append at an offset, conflicts
// when the base changed, and append_chunk at the true end, serialized under concurrency.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { charge, largestFitting } from '../../../../src/storage/index.js';
import { bytes, MIB } from '../../../support/data.js';
import { call, Client } from '../../../support/frames.js';
import { startServer } from '../../../support/in-process.js';
import { OK_COMMITTED, OK_PREPARED, OK_ROLLED_BACK, retrieve } from '../../../support/transactions.js';

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
  t.test('below the end: a conflict naming the end, nothing prepared, the bytes stay', async (t) => {
    // The reference overwrites here; a producer with a stale offset would destroy another's record.
    const r = await call(s.port, { command: 'prepare_append', chunk_id: 'ap', transaction_id: 'mid', data: Buffer.from('WORLD!!!'), offset: 6 });
    t.same(r, { status: 'error', message: 'conflict', size: 13 });
    t.same(await call(s.port, { command: 'commit_append', chunk_id: 'ap', transaction_id: 'mid' }), { status: 'error', message: 'No prepared data found for commit' });
    t.same(await retrieve(s.port, 'ap'), Buffer.from('hello world!!'));
    t.equal(s.store.space.used, charge(13), 'nothing reserved');
  });
  t.test('beyond the end: bad_offset with the size', async (t) => {
    const r = await call(s.port, { command: 'prepare_append', chunk_id: 'ap', transaction_id: 'far', data: Buffer.from('x'), offset: 15 });
    t.same(r, { status: 'error', message: 'bad_offset', size: 13 });
    t.equal(s.store.space.used, charge(13), 'nothing reserved');
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
  t.same(await call(s.port, { command: 'commit_append', ...b }), { status: 'error', message: 'conflict', size: 6 }, 'names the end to prepare at again');
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
      t.same(await call(s.port, { command: 'commit_append', ...tx }), { status: 'error', message: 'conflict', size: s.store.sizeOf('cf') ?? 0 }, name);
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
    // A client's offset is advisory; a replica append's is binding (replica-append.test.ts).
    await call(s.port, { command: 'append_chunk', chunk_id: 'ac', data: Buffer.from('two'), offset: 0, file_path: '/f' }),
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

  // A writer learns the end and prepares there; a prepare at a stale, smaller offset, or a
  // commit racing another commit, gets `conflict` and starts over.
  async function appender(i: number): Promise<boolean> {
    const c = await Client.connect(s.port, t);
    try {
      for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
        maxAttempts = Math.max(maxAttempts, attempt);
        const tx = { chunk_id: 'log', transaction_id: `${i}-${attempt}` };
        const end = (await c.call({ command: 'retrieve_chunk', chunk_id: 'log' })).data.length;
        const p = await c.call({ command: 'prepare_append', ...tx, data: record(i), offset: end });
        if (p.status !== 'ok' && p.message !== 'conflict') throw new Error(`unexpected reply ${JSON.stringify(p)}`);
        if (p.status !== 'ok') {
          conflicts++;
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
