// test/fixtures/r670e824-data was written by the release of 2026-12-03 (commit 670e824) driven
// as a real server by test/fixtures/make-release-data.mjs: lmdb records without a file name,
// every chunk a plain file named by its id (large ones renamed into place), a pending
// prepare_chunk. Today's server opens it, serves every chunk, commits the transaction, and
// replaces a chunk of that release with a large store under a tagged name (issue 22 item 2).
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';
import { chunkIdOfFile } from '../../support/chunk-files.js';
import { bytes, MIB } from '../../support/data.js';
import { call } from '../../support/frames.js';
import { ROOT } from '../../support/paths.js';
import { spawnServer } from '../../support/processes.js';
import { tempDir } from '../../support/temp.js';

const FIXTURE = join(ROOT, 'test', 'fixtures', 'r670e824-data');
const ARGS = ['--server_id', 'r1', '--data_dir', 'data', '--no_master', '--port', '0'];

const written: Record<string, Buffer> = {
  small: bytes(100, 1),
  blocks: bytes(70_000, 2),
  large: bytes(300_000, 3),
  log: Buffer.concat([bytes(10, 4), bytes(20, 5)]),
};

async function serves(t: Test, port: number, chunks: Record<string, Buffer>, when: string): Promise<void> {
  for (const [id, data] of Object.entries(chunks)) {
    const r = await call(port, { command: 'retrieve_chunk', chunk_id: id });
    t.equal(r.status, 'ok', `${id} served ${when}`);
    t.ok(Buffer.from(r.data ?? []).equals(data), `${id} holds its bytes ${when}`);
  }
}

t.test("a data directory of the 2026-12-03 release opens, and its chunks take today's large stores", async (t) => {
  const dir = await tempDir(t);
  await promisify(execFile)('cp', ['-r', FIXTURE, join(dir, 'data')]);
  const chunkDir = join(dir, 'data', 'r1');
  const first = await spawnServer(t, ARGS, dir);
  await serves(t, first.port, written, 'after the upgrade');
  t.match(await call(first.port, { command: 'commit_chunk', chunk_id: 'small', transaction_id: 'tx-chunk' }), { status: 'ok', message: 'committed' }, 'the pending transaction commits');

  const replaced = bytes(2 * MIB, 9);
  const appended = bytes(4000, 10);
  t.match(await call(first.port, { command: 'store_chunk', chunk_id: 'large', data: replaced }), { status: 'ok' });
  t.match(await call(first.port, { command: 'append_chunk', chunk_id: 'large', data: appended }), { status: 'ok', new_offset: replaced.length + appended.length });
  const now = { ...written, small: bytes(50, 6), large: Buffer.concat([replaced, appended]) };
  await serves(t, first.port, now, 'after a large store and an append over a chunk of that release');
  first.proc.kill('SIGKILL');
  await first.exited;

  const second = await spawnServer(t, ARGS, dir);
  await serves(t, second.port, now, 'after kill -9 and a restart');
  const names = (await readdir(chunkDir)).filter((n) => !n.startsWith('.'));
  t.same(names.map(chunkIdOfFile).sort(), Object.keys(now).sort(), 'one data file per chunk');
  t.ok(names.some((n) => n.startsWith('large~')), 'the replaced chunk lives in its tagged file');
});
