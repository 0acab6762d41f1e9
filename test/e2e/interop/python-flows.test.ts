// The reference Python client's flows (test/support/python/reference_flows.py, framing by
// protocol/python/gfs_msgpack.py) against real chunk servers of this project, with what
// each flow reports checked against the servers' own state.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { charge } from '../../../src/storage/index.js';
import { startServer } from '../../support/in-process.js';
import { spawnServer } from '../../support/processes.js';
import { runPython } from '../../support/python.js';
import { tempDir } from '../../support/temp.js';

const FLOWS = 'test/support/python/reference_flows.py';
const MIB = 1024 * 1024;

async function flow(t: Test, name: string, ...addresses: string[]): Promise<Record<string, any>> {
  const run = await runPython(FLOWS, [name, ...addresses]);
  t.equal(run.code, 0, `${name} flow passes`, { stderr: run.stderr.slice(-4000) });
  return run.code === 0 ? (JSON.parse(run.stdout.trim().split('\n').pop()!) as Record<string, any>) : {};
}

t.test('upload falls back across servers on insufficient_space, download skips dead and missing copies', async (t) => {
  const small = await startServer(t, { spaceMb: 0.5 });
  const big = await startServer(t);
  const out = await flow(t, 'upload_with_fallback', small.address, big.address);

  // 0.5 MiB holds two 200 000-byte chunks (as charged: src/storage/space/charges.ts); the third and later go to the big server.
  t.same(out.placement, [small.address, small.address, big.address, big.address, big.address]);
  const free = MIB / 2 - 2 * charge(200_000);
  t.same(out.available_space_seen, [free, free, free]);
  out.chunk_ids.forEach((id: string, i: number) => {
    const holder = out.placement[i] === small.address ? small : big;
    const other = holder === small ? big : small;
    t.equal(holder.store.sizeOf(id), 200_000, `chunk ${i} on its server`);
    t.equal(other.store.sizeOf(id), undefined, `chunk ${i} only there`);
  });
  t.equal(small.store.space.used, 2 * charge(200_000));
  t.same(out.download_errors, ['ConnectionRefusedError', 'chunk_not_found']);
});

t.test('master-style re-replication: retrieve from one server, store with replica_servers true on another', async (t) => {
  const source = await startServer(t);
  const dir = await tempDir(t);
  const target = await spawnServer(t, ['--no_master', '--server_id', 'target', '--data_dir', dir, '--port', '0', '--space', '16'], dir);
  const out = await flow(t, 'rereplicate', source.address, `127.0.0.1:${target.port}`);

  t.equal(source.store.sizeOf(out.chunk_id), out.size);
  const copy = await stat(join(dir, 'target', out.chunk_id));
  t.equal(copy.size, out.size, 'the replica is stored under the given chunk_id');
});

t.test('check_space, store, delete: the space a chunk takes and gives back', async (t) => {
  const server = await startServer(t, { spaceMb: 2 });
  const out = await flow(t, 'space_and_delete', server.address);
  t.equal(out.available_space, 2 * MIB);
  t.equal(server.store.space.used, 0);
  t.equal(server.store.chunkCount, 0);
});

t.test('connection rules from a Python client: pipelining, half-close, refusals, violations', async (t) => {
  const server = await startServer(t);
  const out = await flow(t, 'connection', server.address);
  t.equal(out.too_large, `bad_request: frame too large: 4294967295 bytes, limit ${80 * MIB}`);
  t.equal(server.store.chunkCount, 0);
});
