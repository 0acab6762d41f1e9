import { execFile } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';
type T = Test;
import { bytes } from '../../support/data.js';
import { call } from '../../support/frames.js';
import { ROOT } from '../../support/paths.js';
import { spawnServer } from '../../support/processes.js';
import { tempDir } from '../../support/temp.js';

// test/fixtures/v1-data was written by release v1 (commit 2242cf1) driven as a real server
// by test/fixtures/make-v1-data.mjs: plain chunks with `.meta/<id>.crc` sums files, and a
// `.prepared/` folder with three pending transactions (copy-on-write versions).
const FIXTURE = join(ROOT, 'test', 'fixtures', 'v1-data');
const run = promisify(execFile);

/**
 * A copy of the fixture as v1 left it on disk. Git keeps no mtimes, and v1's prepared appends
 * name the chunk version they were built on by (size, mtime); those mtimes are in the
 * sidecars, so they are put back on the chunks (`touch` takes nanoseconds).
 */
async function v1Copy(t: T): Promise<string> {
  const dir = await tempDir(t);
  await run('cp', ['-r', FIXTURE, join(dir, 'data')]);
  const chunkDir = join(dir, 'data', 'v1');
  const prepared = join(chunkDir, '.prepared');
  for (const name of (await readdir(prepared)).filter((n) => n.endsWith('.json'))) {
    const sidecar = JSON.parse(await readFile(join(prepared, name), 'utf8')) as { chunk_id: string; base?: { mtime_ns: string } };
    if (!sidecar.base) continue;
    const ns = sidecar.base.mtime_ns.padStart(10, '0');
    await run('touch', ['-m', '-d', `@${ns.slice(0, -9)}.${ns.slice(-9)}`, join(chunkDir, sidecar.chunk_id)]);
  }
  // Pending transactions expire transaction_ttl_s after they were prepared, across restarts;
  // the fixture's are older than any default, so the test gives them a long life.
  await writeFile(join(dir, 'chunk_server.toml'), '[chunk_server]\ntransaction_ttl_s = 1000000000\n');
  return dir;
}

const ARGS = ['--server_id', 'v1', '--data_dir', 'data', '--no_master', '--port', '0'];

const before: Record<string, Buffer> = {
  empty: Buffer.alloc(0),
  small: bytes(100, 1),
  blocks: bytes(70_000, 2),
  log: Buffer.concat([bytes(10, 3), bytes(20, 4)]),
  fresh: bytes(5, 5),
};

const overwritten = Buffer.from(before.blocks!);
bytes(9, 8).copy(overwritten, 1000);
const after: Record<string, Buffer> = {
  ...before,
  small: bytes(50, 6),
  log: Buffer.concat([before.log!, bytes(7, 7)]),
  blocks: overwritten,
};

async function serves(t: T, port: number, chunks: Record<string, Buffer>, when: string): Promise<void> {
  for (const [id, data] of Object.entries(chunks)) {
    const r = await call(port, { command: 'retrieve_chunk', chunk_id: id });
    t.equal(r.status, 'ok', `${id} served ${when}`);
    t.ok(Buffer.from(r.data ?? []).equals(data), `${id} holds its bytes ${when}`);
  }
}

t.test('a v1 data directory opens with every chunk served and every pending transaction committable', async (t) => {
  const dir = await v1Copy(t);
  const first = await spawnServer(t, ARGS, dir);
  await serves(t, first.port, before, 'after the upgrade');
  const commits = [
    { command: 'commit_chunk', chunk_id: 'small', transaction_id: 'tx-chunk' },
    { command: 'commit_append', chunk_id: 'log', transaction_id: 'tx-append' },
    { command: 'commit_append', chunk_id: 'blocks', transaction_id: 'tx-inside' },
  ];
  for (const c of commits) t.match(await call(first.port, c), { status: 'ok', message: 'committed' }, `${c.command} ${c.transaction_id}`);
  await serves(t, first.port, after, 'after the commits');
  first.proc.kill('SIGKILL');
  await first.exited;

  const second = await spawnServer(t, ARGS, dir);
  await serves(t, second.port, after, 'after a restart');
});

t.test('pending v1 transactions can be rolled back after the upgrade', async (t) => {
  const dir = await v1Copy(t);
  const server = await spawnServer(t, ARGS, dir);
  for (const [command, chunk_id, transaction_id] of [
    ['rollback_chunk', 'small', 'tx-chunk'],
    ['rollback_append', 'log', 'tx-append'],
    ['rollback_append', 'blocks', 'tx-inside'],
  ]) {
    t.same(await call(server.port, { command, chunk_id, transaction_id }), { status: 'ok', message: 'rolled back' }, `${command} ${transaction_id}`);
  }
  await serves(t, server.port, before, 'after the rollbacks');
  t.same(await readdir(join(dir, 'data', 'v1', '.prepared')), [], 'no prepared file left');
  t.match(await call(server.port, { command: 'commit_append', chunk_id: 'log', transaction_id: 'tx-append' }), { status: 'error' }, 'a rolled back transaction cannot commit');
});
