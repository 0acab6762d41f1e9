import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { charge } from '../../../../src/storage/index.js';
import { chunkFile } from '../../../support/chunk-files.js';
import { bytes, MIB } from '../../../support/data.js';
import { call, Client } from '../../../support/frames.js';
import { startServer } from '../../../support/in-process.js';
import { tempDir } from '../../../support/temp.js';

t.test('store and retrieve round trip byte-exact (0 B, 1 B, 1 MiB, 64 MiB)', async (t) => {
  const server = await startServer(t, { spaceMb: 256 });
  for (const size of [0, 1, MIB, 64 * MIB]) {
    const data = bytes(size, size + 1);
    const id = `chunk-${size}`;
    t.match(await call(server.port, { command: 'store_chunk', chunk_id: id, file_path: '/f', data }), { status: 'ok', chunk_id: id, replicas: 0 });
    const got = await call(server.port, { command: 'retrieve_chunk', chunk_id: id });
    t.equal(got.status, 'ok');
    t.ok(Buffer.from(got.data).equals(data), `${size} bytes identical`);
    // A large store's bytes live in its tagged file (`<id>~<tag>`), a smaller one's under its id.
    const onDisk = await readFile(chunkFile(server.store.dir, id));
    t.ok(onDisk.equals(data), 'file holds the plain bytes');
  }
});

t.test('replica store keeps the given chunk_id and replies without replicas', async (t) => {
  const server = await startServer(t);
  const data = bytes(1000);
  t.match(await call(server.port, { command: 'store_chunk', chunk_id: 'given-id', data, replica_servers: true }), { status: 'ok', chunk_id: 'given-id' });
  t.match(await call(server.port, { command: 'store_chunk', chunk_id: 'primary', data, replica_servers: [] }), { status: 'ok', chunk_id: 'primary', replicas: 0 });
  t.same((await readdir(server.store.dir)).sort(), ['.meta', 'given-id', 'primary']);
  t.same(
    server.store.listChunks().map((c) => [c.chunk_id, c.length, c.version]).sort(),
    [['given-id', 1000, 1], ['primary', 1000, 1]],
    'a metadata record beside each chunk',
  );
});

t.test('pipelined requests on one connection are answered in order', async (t) => {
  const server = await startServer(t);
  const c = await Client.connect(server.port, t);
  const big = bytes(300 * 1024, 5);
  c.send({ command: 'store_chunk', chunk_id: 'p1', file_path: '/f', data: big });
  c.send({ command: 'retrieve_chunk', chunk_id: 'p1' });
  c.send({ command: 'check_space', size: 10 });
  c.send({ command: 'retrieve_chunk', chunk_id: 'nope' });
  for (let i = 0; i < 20; i++) c.send({ command: 'check_space', size: i });
  c.send({ command: 'delete_chunk', chunk_id: 'p1' });
  c.send({ command: 'retrieve_chunk', chunk_id: 'p1' });
  t.match(await c.next(), { status: 'ok', chunk_id: 'p1', replicas: 0 });
  const r = await c.next();
  t.ok(Buffer.from(r!.data).equals(big));
  t.same(await c.next(), { status: 'ok' });
  t.same(await c.next(), { status: 'error', message: 'chunk_not_found' });
  for (let i = 0; i < 20; i++) t.same(await c.next(), { status: 'ok' });
  t.same(await c.next(), { status: 'ok' });
  t.same(await c.next(), { status: 'error', message: 'chunk_not_found' });
});

t.test('100 concurrent connections storing distinct chunks, all retrievable', async (t) => {
  const server = await startServer(t);
  const ids = Array.from({ length: 100 }, (_, i) => `c${i}`);
  const replies = await Promise.all(ids.map((id, i) => call(server.port, { command: 'store_chunk', chunk_id: id, file_path: '/f', data: bytes(20_000 + i, i + 1) })));
  t.ok(replies.every((r) => r.status === 'ok'));
  const back = await Promise.all(ids.map((id) => call(server.port, { command: 'retrieve_chunk', chunk_id: id })));
  t.ok(back.every((r, i) => Buffer.from(r.data).equals(bytes(20_000 + i, i + 1))), 'every chunk byte-exact');
  t.equal(server.store.space.used, ids.reduce((n, _, i) => n + charge(20_000 + i), 0));
});

t.test('a client that half-closes after its request still gets the reply', async (t) => {
  const server = await startServer(t);
  await call(server.port, { command: 'store_chunk', chunk_id: 'h', data: bytes(MIB) });
  const c = await Client.connect(server.port, t);
  c.send({ command: 'retrieve_chunk', chunk_id: 'h' });
  c.socket.end();
  const r = await c.next();
  t.ok(Buffer.from(r!.data).equals(bytes(MIB)));
  await c.closed();
  t.pass('server closed after the reply');
});

t.test('delete is ok whether or not the chunk existed and frees its space', async (t) => {
  const server = await startServer(t);
  await call(server.port, { command: 'store_chunk', chunk_id: 'd', data: bytes(4096) });
  t.equal(server.store.space.used, charge(4096));
  t.same(await call(server.port, { command: 'delete_chunk', chunk_id: 'd' }), { status: 'ok' });
  t.same(await call(server.port, { command: 'delete_chunk', chunk_id: 'd' }), { status: 'ok' });
  t.equal(server.store.space.used, 0);
  t.same(await call(server.port, { command: 'retrieve_chunk', chunk_id: 'd' }), { status: 'error', message: 'chunk_not_found' });
});

t.test('missing and mistyped fields name the field', async (t) => {
  const server = await startServer(t);
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ command: 'store_chunk', data: Buffer.alloc(1) }, 'bad_request: chunk_id'],
    [{ command: 'store_chunk', chunk_id: 'a' }, 'bad_request: data'],
    [{ command: 'store_chunk', chunk_id: 'a', data: 'text, not bin' }, 'bad_request: data'],
    [{ command: 'store_chunk', chunk_id: 7, data: Buffer.alloc(1) }, 'bad_request: chunk_id'],
    [{ command: 'store_chunk', chunk_id: 'a', data: Buffer.alloc(1), file_path: 3 }, 'bad_request: file_path'],
    [{ command: 'store_chunk', chunk_id: 'a', data: Buffer.alloc(1), chunk_index: -1 }, 'bad_request: chunk_index'],
    [{ command: 'store_chunk', chunk_id: 'a', data: Buffer.alloc(1), client_id: [] }, 'bad_request: client_id'],
    [{ command: 'check_space' }, 'bad_request: size'],
    [{ command: 'check_space', size: -1 }, 'bad_request: size'],
    [{ command: 'check_space', size: 1.5 }, 'bad_request: size'],
    [{ command: 'check_space', size: '10' }, 'bad_request: size'],
    [{ command: 'retrieve_chunk' }, 'bad_request: chunk_id'],
    [{ command: 'delete_chunk', chunk_id: null }, 'bad_request: chunk_id'],
    [{ command: 'format_disk' }, 'unknown_command: format_disk'],
    [{ command: 'toString' }, 'unknown_command: toString'],
    [{ command: 42 }, 'bad_request: command is not a string'],
    [{ chunk_id: 'x' }, 'bad_request: missing command'],
  ];
  const c = await Client.connect(server.port, t);
  for (const [req, message] of cases) t.same(await c.call(req), { status: 'error', message }, message);
  t.same(await c.call({ command: 'check_space', size: 0 }), { status: 'ok' }, 'connection still serves');
});

t.test('nil optional fields are accepted', async (t) => {
  const server = await startServer(t);
  const reply = await call(server.port, { command: 'store_chunk', chunk_id: 'n', data: Buffer.from('x'), file_path: null, chunk_index: null, client_id: null, replica_servers: null });
  t.match(reply, { status: 'ok', chunk_id: 'n', replicas: 0 });
  t.match(await call(server.port, { command: 'store_chunk', chunk_id: 'm', data: Buffer.from('x'), file_path: '/a', chunk_index: 3, client_id: 'c1' }), { status: 'ok', chunk_id: 'm', replicas: 0 });
});

t.test('the chunk directory is <data_dir>/<server_id>', async (t) => {
  const dir = await tempDir(t);
  const server = await startServer(t, { serverId: 'chunk9' }, dir);
  t.equal(server.store.dir, join(dir, 'chunk9'));
});
