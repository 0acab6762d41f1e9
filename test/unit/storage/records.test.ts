import { appendFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import type { ChunkChange } from '../../../src/storage/index.js';
import { bytes } from '../../support/data.js';
import { call } from '../../support/frames.js';
import { startServer } from '../../support/in-process.js';
import { tempDir } from '../../support/temp.js';

t.test('versions: 1 for a new chunk, +1 per mutation, or the version a request carries; in replies and across restarts', async (t) => {
  const dir = await tempDir(t);
  const server = await startServer(t, {}, dir);
  const p = server.port;
  t.match(await call(p, { command: 'store_chunk', chunk_id: 'v', data: bytes(10) }), { status: 'ok', version: 1 });
  t.match(await call(p, { command: 'store_chunk', chunk_id: 'v', data: bytes(20) }), { status: 'ok', version: 2 });
  t.match(await call(p, { command: 'append_chunk', chunk_id: 'v', data: bytes(5) }), { status: 'ok', new_offset: 25, version: 3 });
  t.match(await call(p, { command: 'append_chunk', chunk_id: 'v', data: bytes(5), version: 10, replica_servers: true }), { status: 'ok', version: 10 });
  t.match(await call(p, { command: 'store_chunk', chunk_id: 'r', data: bytes(5), version: 7, replica_servers: true }), { status: 'ok', version: 7 });
  t.match(await call(p, { command: 'prepare_append', chunk_id: 'v', transaction_id: 'a', offset: 30, data: bytes(3) }), { message: 'prepared' });
  t.match(await call(p, { command: 'commit_append', chunk_id: 'v', transaction_id: 'a' }), { status: 'ok', message: 'committed', version: 11 });
  t.match(await call(p, { command: 'prepare_chunk', chunk_id: 'v', transaction_id: 'c', data: bytes(4) }), { message: 'prepared' });
  t.match(await call(p, { command: 'commit_chunk', chunk_id: 'v', transaction_id: 'c' }), { status: 'ok', message: 'committed', version: 12 });
  t.match(await call(p, { command: 'retrieve_chunk', chunk_id: 'v' }), { status: 'ok', version: 12 });
  await server.stop();
  const again = await startServer(t, {}, dir);
  t.equal(again.store.versionOf('v'), 12, 'kept across a restart');
  t.equal(again.store.versionOf('r'), 7);
  t.match(await call(again.port, { command: 'append_chunk', chunk_id: 'v', data: bytes(1) }), { version: 13 });
});

t.test('listChunks, summaryOf, onChange; the digest depends on the bytes only', async (t) => {
  const server = await startServer(t);
  const changes: ChunkChange[] = [];
  const off = server.store.onChange((c) => changes.push(c));
  const whole = Buffer.concat([bytes(70_000, 1), bytes(1000, 2)]);
  await call(server.port, { command: 'store_chunk', chunk_id: 'whole', data: whole });
  await call(server.port, { command: 'append_chunk', chunk_id: 'built', data: bytes(70_000, 1) });
  await call(server.port, { command: 'append_chunk', chunk_id: 'built', data: bytes(1000, 2) });
  await call(server.port, { command: 'store_chunk', chunk_id: 'other', data: bytes(71_000, 3) });
  const a = server.store.summaryOf('whole')!;
  const b = server.store.summaryOf('built')!;
  t.match(a, { chunk_id: 'whole', length: 71_000, version: 1, digest: /^[0-9a-f]{32}$/ });
  t.match(b, { chunk_id: 'built', length: 71_000, version: 2 });
  t.equal(a.digest, b.digest, 'same bytes, same digest, whatever the history');
  t.not(server.store.summaryOf('other')!.digest, a.digest, 'other bytes, other digest');
  t.same(server.store.listChunks().map((c) => c.chunk_id).sort(), ['built', 'other', 'whole']);
  await call(server.port, { command: 'delete_chunk', chunk_id: 'other' });
  t.same(
    changes.map((c) => ('deleted' in c ? [c.chunk_id, 'deleted'] : [c.chunk_id, c.version])),
    [['whole', 1], ['built', 1], ['built', 2], ['other', 1], ['other', 'deleted']],
    'one change per committed mutation, in order',
  );
  off();
  await call(server.port, { command: 'delete_chunk', chunk_id: 'whole' });
  t.equal(changes.length, 5, 'unsubscribed');
  t.equal(server.store.summaryOf('whole'), undefined);
});

t.test('appends go in place: the chunk file stays the same file, and readers never see uncommitted bytes', async (t) => {
  const dir = await tempDir(t);
  const server = await startServer(t, {}, dir);
  const path = join(server.store.dir, 'log');
  await call(server.port, { command: 'store_chunk', chunk_id: 'log', data: bytes(100_000, 1) });
  const ino = (await stat(path)).ino;
  await call(server.port, { command: 'append_chunk', chunk_id: 'log', data: bytes(4096, 2) });
  await call(server.port, { command: 'prepare_append', chunk_id: 'log', transaction_id: 't', offset: 104_096, data: bytes(10, 3) });
  await call(server.port, { command: 'commit_append', chunk_id: 'log', transaction_id: 't' });
  t.equal((await stat(path)).ino, ino, 'no copy of the chunk was made');
  // What an append that wrote its bytes and never committed leaves.
  await appendFile(path, Buffer.from('uncommitted'));
  const r = await call(server.port, { command: 'retrieve_chunk', chunk_id: 'log' });
  t.equal(Buffer.from(r.data).length, 104_106, 'retrieve stops at the committed length');
  await server.stop();
  const again = await startServer(t, {}, dir);
  t.equal((await stat(path)).size, 104_106, 'start-up cut the file back');
  t.ok(Buffer.from((await call(again.port, { command: 'retrieve_chunk', chunk_id: 'log' })).data).equals(Buffer.concat([bytes(100_000, 1), bytes(4096, 2), bytes(10, 3)])));
});

t.test('max_prepared bounds pending transactions', async (t) => {
  const server = await startServer(t, { maxPrepared: 2 });
  const prep = (id: string): object => ({ command: 'prepare_chunk', chunk_id: 'c', transaction_id: id, data: bytes(0) });
  t.match(await call(server.port, prep('1')), { message: 'prepared' });
  t.match(await call(server.port, prep('2')), { message: 'prepared' });
  t.same(await call(server.port, prep('3')), { status: 'error', message: 'too_many_prepared', max_prepared: 2 });
  t.match(await call(server.port, prep('2')), { message: 'prepared' }, 'a re-prepare of a pending one is no new transaction');
  t.same(await call(server.port, { command: 'prepare_append', chunk_id: 'c', transaction_id: '4', offset: 0, data: bytes(1) }), { status: 'error', message: 'too_many_prepared', max_prepared: 2 });
  await call(server.port, { command: 'rollback_chunk', chunk_id: 'c', transaction_id: '1' });
  t.match(await call(server.port, prep('3')), { message: 'prepared' }, 'room again after a rollback');
});
