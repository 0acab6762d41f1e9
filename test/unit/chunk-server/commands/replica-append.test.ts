// A replica append (append_chunk with replica_servers) carries the offset its primary
// appended at. A replica whose copy ends elsewhere must refuse it (bad_offset) and keep its
// bytes: appending at its own end would give it the primary's version over different
// bytes, a copy reported current that is not (issue #21, review bug 1).
import t from 'tap';
import { bytes } from '../../../support/data.js';
import { call } from '../../../support/frames.js';
import { startServer } from '../../../support/in-process.js';

t.test('a replica append at another offset than the copy\'s end is refused and changes nothing', async (t) => {
  const server = await startServer(t);
  const data = bytes(1000);
  t.match(await call(server.port, { command: 'store_chunk', chunk_id: 'c1', data, replica_servers: true, version: 3 }), { status: 'ok' });
  const wrong = await call(server.port, { command: 'append_chunk', chunk_id: 'c1', data: bytes(10, 7), offset: 1200, replica_servers: true, version: 4 });
  t.same(wrong, { status: 'error', message: 'bad_offset', size: 1000 }, 'refused, with the copy\'s size');
  t.match(server.store.listChunks(), [{ chunk_id: 'c1', length: 1000, version: 3 }], 'the copy kept its bytes and its version');
  const got = await call(server.port, { command: 'retrieve_chunk', chunk_id: 'c1' });
  t.ok(Buffer.from(got.data).equals(data), 'bytes unchanged');
  t.match(await call(server.port, { command: 'append_chunk', chunk_id: 'c1', data: bytes(10, 7), offset: 1000, replica_servers: true, version: 4 }),
    { status: 'ok', new_offset: 1010, version: 4 }, 'at the copy\'s end it is applied');
});

t.test('a replica append to a chunk it lacks is refused unless it starts at 0', async (t) => {
  const server = await startServer(t);
  t.same(await call(server.port, { command: 'append_chunk', chunk_id: 'none', data: bytes(10), offset: 500, replica_servers: true, version: 2 }),
    { status: 'error', message: 'bad_offset', size: 0 });
  t.same(server.store.listChunks(), [], 'no chunk made of the appended bytes alone');
});

t.test('a client\'s offset stays advisory: a primary appends at the true end', async (t) => {
  const server = await startServer(t);
  await call(server.port, { command: 'store_chunk', chunk_id: 'c2', data: bytes(100) });
  t.match(await call(server.port, { command: 'append_chunk', chunk_id: 'c2', data: bytes(10), offset: 5 }), { status: 'ok', new_offset: 110 });
});
