import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { call } from '../../support/frames.js';
import { startServer } from '../../support/in-process.js';
import { tempDir } from '../../support/temp.js';

const HOSTILE = ['../x', '/etc/passwd', 'a/b', '..', '.', '', 'a\0b', '.hidden', 'x'.repeat(129), 'a\\b', 'sp ace', '..\\..\\x', 'é', '__proto__'];

t.test('hostile chunk ids are refused and nothing appears outside the chunk directory', async (t) => {
  const root = await tempDir(t);
  const dataDir = join(root, 'data');
  const server = await startServer(t, {}, dataDir);
  for (const id of HOSTILE) {
    for (const req of [
      { command: 'store_chunk', chunk_id: id, data: Buffer.from('evil'), file_path: '/f' },
      { command: 'store_chunk', chunk_id: id, data: Buffer.from('evil'), replica_servers: true },
      { command: 'retrieve_chunk', chunk_id: id },
      { command: 'delete_chunk', chunk_id: id },
    ]) {
      t.same(await call(server.port, req), { status: 'error', message: 'invalid_chunk_id' }, `${req.command} ${JSON.stringify(id)}`);
    }
  }
  t.same(await readdir(root), ['data']);
  t.same((await readdir(dataDir)).sort(), ['server_info.json', 'test1']);
  t.same(await readdir(join(dataDir, 'test1')), ['.meta']);
  t.equal(server.store.space.used, 0);
});

t.test('ids at the edges of the alphabet and length are accepted', async (t) => {
  const server = await startServer(t);
  for (const id of ['a', 'x'.repeat(128), 'A-b_c.9', '0.temp', 'abc..def', '-lead']) {
    t.equal((await call(server.port, { command: 'store_chunk', chunk_id: id, data: Buffer.from(id) })).status, 'ok', id);
  }
  t.equal(server.store.chunkCount, 6);
});
