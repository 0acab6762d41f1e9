// What the master gives a reader to check a chunk with (get_chunk_locations' version and
// digests) and what it does with a reader's report of a bad copy (report_corrupt_chunk).
import { join } from 'node:path';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import { ChunkMap } from '../../../../src/master/chunk-map.js';
import type { MasterContext } from '../../../../src/master/commands/context.js';
import { Leases } from '../../../../src/master/leases.js';
import { masterCommands } from '../../../../src/master/commands/index.js';
import { Members } from '../../../../src/master/members.js';
import { Namespace } from '../../../../src/master/namespace/namespace.js';
import { Nodes } from '../../../../src/master/nodes.js';
import { RepairScheduler } from '../../../../src/master/repair-scheduler.js';
import { tempDir } from '../../../support/temp.js';

const log = pino({ level: 'silent' });
const D1 = 'aa';
const D2 = 'bb';

async function master(t: Test) {
  const { ns } = await Namespace.open(join(await tempDir(t), 'ns'), null);
  t.teardown(() => ns.close());
  const nodes = new Nodes({ deadAfterMs: 60_000, clientTimeoutMs: 60_000, now: () => Date.now() });
  const map = new ChunkMap();
  const members = new Members(ns);
  const repairer = new RepairScheduler({
    ns, map, nodes, members, factor: 2, maxCopiesPerServer: 2, gcGraceMs: 3_600_000, settleMs: 0, reportMarginMs: 0,
    instructionTimeoutMs: 60_000, distanceWeight: 0.6, spaceWeight: 0.4, log, now: () => Date.now(),
  });
  const ctx: MasterContext = { nodes, members, ns, map, repairer, leases: Leases.inMemory(60_000), placement: { distanceWeight: 0.6, spaceWeight: 0.4 }, replicationFactor: 2, reportMarginMs: 0, log };
  const call = (body: Record<string, unknown>): Promise<Record<string, any>> => masterCommands.dispatch(body, ctx);
  const report = (address: string, length: number, digest: string, version = 1) =>
    call({ command: 'heartbeat', address, chunk_report: [{ chunk_id: 'c1', length, version, digest }] });
  await call({ command: 'add_file', file_path: '/f', total_size: 4, chunk_ids: ['c1'] });
  for (const a of ['a:1', 'b:1', 'ref:1']) await call({ command: 'register_chunk_server', address: a });
  return { call, report };
}

const locate = { command: 'get_chunk_locations', file_path: '/f', chunk_id: 'c1' };

t.test('get_chunk_locations hands out the version and the digests of the current copies', async (t) => {
  const { call, report } = await master(t);
  await report('a:1', 4, D1);
  await report('b:1', 4, D1);
  t.match(await call(locate), { status: 'ok', locations: ['a:1', 'b:1'], version: 1, digests: [{ length: 4, digest: D1 }], primary: 'a:1', lease_end: Number });
  await report('b:1', 6, D2, 2);
  t.match(await call(locate), { status: 'ok', locations: ['b:1'], version: 2, digests: [{ length: 6, digest: D2 }], primary: 'a:1' }, 'a stale copy vouches for nothing');
});

t.test("a primary's word without a version does not wipe a reported digest", async (t) => {
  const { call, report } = await master(t);
  await report('a:1', 4, D1);
  t.match(await call({ command: 'update_file_metadata', file_path: '/f', chunk_id: 'c1', chunk_locations: ['ref:1', 'a:1'], chunk_size: 4 }), { status: 'ok' });
  t.same((await call(locate)).digests, [{ length: 4, digest: D1 }]);
});

t.test('report_corrupt_chunk drops the copy while another current one exists', async (t) => {
  const { call, report } = await master(t);
  await report('a:1', 4, D1);
  await call({ command: 'update_file_metadata', file_path: '/f', chunk_id: 'c1', chunk_locations: ['ref:1', 'a:1'], chunk_size: 4, version: 1 });
  t.same((await call(locate)).locations, ['ref:1', 'a:1']);
  const bad = { command: 'report_corrupt_chunk', file_path: '/f', chunk_id: 'c1' };
  t.same(await call({ ...bad, address: 'ref:1' }), { status: 'ok', dropped: true });
  t.same((await call(locate)).locations, ['a:1'], 'readers are no longer sent to it');
  t.same(await call({ ...bad, address: 'a:1' }), { status: 'ok', dropped: false }, 'the last current copy stays');
  t.same(await call({ ...bad, address: 'ref:1' }), { status: 'ok', dropped: false }, 'a copy it does not list');
  t.same(await call({ ...bad, file_path: 'g', address: 'a:1' }), { status: 'ok', dropped: false }, 'a file it does not have');
  t.same((await call(locate)).locations, ['a:1']);
  t.match(await call({ ...bad, address: 'no port' }), { status: 'error', message: /^bad_request/ }, 'the address is checked');
});
