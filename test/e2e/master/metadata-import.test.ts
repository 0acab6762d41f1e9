// A reference master's metadata.json is imported on the first start (and left in place),
// never again after; `master --export-metadata FILE` writes the same layout back out.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { masterToml, writeToml } from '../../support/configs.js';
import { call } from '../../support/frames.js';
import { runMaster, spawnMaster } from '../../support/processes.js';
import { tempDir } from '../../support/temp.js';

const reference = {
  '/a.txt': {
    file_path: '/a.txt',
    total_size: 300,
    chunk_ids: ['ca1', 'ca2'],
    chunk_locations: { ca1: ['127.0.0.1:7001', '127.0.0.1:7002'], ca2: ['127.0.0.1:7002'] },
    chunk_offsets: { ca1: 200, ca2: 100 },
    last_chunk_id: 'ca2',
    last_chunk_offset: 100,
  },
  // As older reference files have it: fields missing.
  '/b.bin': { file_path: '/b.bin', total_size: 0, chunk_ids: [] },
};

t.test('metadata.json imported once, left in place, exported back', async (t) => {
  const dir = await tempDir(t);
  const json = JSON.stringify(reference);
  await writeFile(join(dir, 'meta.json'), json);
  const args = ['--config', await writeToml(dir, 'm.toml', masterToml()), '--port', '0', '--metadata', 'meta.json'];
  const first = await spawnMaster(t, args, dir);
  t.match(first.stdout(), /"files":2[^\n]*"msg":"imported reference metadata.json into the namespace"/);
  t.same(((await call(first.port, { command: 'list_files' })).files as string[]).sort(), ['/a.txt', '/b.bin']);
  const a = (await call(first.port, { command: 'get_file_metadata', file_path: '/a.txt' })).metadata as Record<string, unknown>;
  t.match(a, { total_size: 300, chunk_ids: ['ca1', 'ca2'], chunk_offsets: { ca1: 200, ca2: 100 }, last_chunk_id: 'ca2', last_chunk_offset: 100 });
  t.same(a.chunk_locations, { ca1: ['127.0.0.1:7001', '127.0.0.1:7002'], ca2: ['127.0.0.1:7002'] }, 'recorded holders served until reports come');
  t.same((await call(first.port, { command: 'get_chunk_locations', file_path: '/a.txt', chunk_id: 'ca1' })).locations, ['127.0.0.1:7001', '127.0.0.1:7002']);
  t.same(await call(first.port, { command: 'delete_file', file_path: '/b.bin' }), { status: 'ok' });
  first.proc.kill('SIGTERM');
  await first.exited;
  t.equal(await readFile(join(dir, 'meta.json'), 'utf8'), json, 'the reference file is left as it was');

  const second = await spawnMaster(t, args, dir);
  t.notMatch(second.stdout(), /imported reference metadata/, 'not imported again');
  t.same((await call(second.port, { command: 'list_files' })).files, ['/a.txt'], 'the delete made after the import stands');
  second.proc.kill('SIGTERM');
  await second.exited;

  t.equal((await runMaster([...args, '--export-metadata', 'out.json', '--log_level', 'silent'], dir)).code, 0);
  const out = JSON.parse(await readFile(join(dir, 'out.json'), 'utf8')) as Record<string, unknown>;
  t.same(Object.keys(out), ['/a.txt']);
  t.same(out['/a.txt'], reference['/a.txt'], 'the reference layout, field for field');
});
