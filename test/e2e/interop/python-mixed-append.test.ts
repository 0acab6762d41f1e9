// The reference GFSClient's two-phase append (test/support/python/mixed_append.py) and our
// record appends (GfsClient.append) on one file at the same time (issue 23, acceptance):
// each append either succeeds or fails loudly, and no acknowledged bytes are overwritten:
// every record either side was told is appended is found whole at its offset in the file.
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { GfsClient } from '../../../src/client/index.js';
import { startCluster } from '../../support/cluster.js';
import { call } from '../../support/frames.js';
import { runPython } from '../../support/python.js';
import { collect, record, RECORD_BYTES } from '../../support/records.js';
import { waitFor } from '../../support/waits.js';

const PATH = '/mixed/log';
const HEAD = Buffer.from('head of the log|');
// The reference client's chunk size (gfs_client.py): every record of the run fits in the
// one chunk, which the reference client needs (it never starts a new one).
const CHUNK_BYTES = 300_000;
const PRODUCERS = 4;
const EACH = 10;
const PY_COUNT = 8;
// Our producers pause this long at most between appends (a paced workload, not a wait for
// anything): in the gaps the reference client's recorded end is the real one and its
// appends get through, so the two kinds really interleave.
const PACE_MS = 150;

interface Acked {
  readonly who: string;
  readonly offset: number;
  readonly data: Buffer;
}

t.test('the reference two-phase append interleaved with record appends on one file: nothing acknowledged overwritten', async (t) => {
  const c = await startCluster(t, { beatS: 1 });
  const setup = new GfsClient({ master: c.master.address, chunkSize: CHUNK_BYTES });
  t.teardown(() => setup.close());
  await setup.put(HEAD, PATH);
  const chunk = (await call(c.master.port, { command: 'get_file_metadata', file_path: PATH })).metadata.last_chunk_id as string;
  await waitFor('three current copies of the chunk', async () => {
    const r = await call(c.master.port, { command: 'get_chunk_locations', file_path: PATH, chunk_id: chunk });
    return r.locations?.length === 3 ? true : undefined;
  });

  const clients = Array.from({ length: PRODUCERS }, () => new GfsClient({ master: c.master.address, chunkSize: CHUNK_BYTES }));
  t.teardown(() => clients.forEach((cl) => cl.close()));
  const acked: Acked[] = [];
  const failed: string[] = [];
  const ours = Promise.all(
    clients.map(async (client, p) => {
      for (let i = 0; i < EACH; i++) {
        const data = record(`ts${p}-${i}`);
        try {
          const r = await client.append(PATH, data);
          acked.push({ who: `ts${p}-${i}`, offset: r.offset!, data });
        } catch (err) {
          failed.push((err as Error).message);
        }
        await sleep(Math.random() * PACE_MS);
      }
    }),
  );
  const python = runPython('test/support/python/mixed_append.py', [c.master.address, PATH, 'py', String(PY_COUNT)], 60_000);
  const [, run] = await Promise.all([ours, python]);

  t.equal(run.code, 0, 'the reference client ran to its end', { stderr: run.stderr.slice(-4000) });
  const lines = run.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { tag: string; ok: boolean; offset?: number; why?: string });
  const pyOk = lines.filter((l) => l.ok);
  const pyFailed = lines.filter((l) => !l.ok);
  t.comment(`reference appends: ${pyOk.length} acknowledged, ${pyFailed.length} attempts refused (${[...new Set(pyFailed.map((l) => l.why))].slice(0, 3).join('; ')})`);
  t.ok(pyOk.length > 0, 'some reference appends got through between the record appends');
  t.comment(`record appends: ${acked.length} acknowledged, ${failed.length} failed`);
  // A refused reference append is refused loudly, by a conflict that names the end it missed.
  t.same(pyFailed.filter((l) => !/conflict|offset/i.test(l.why ?? '')).map((l) => l.why), [], 'every refused reference append says it met another producer');
  t.same(failed, [], 'every record append got through (the primary picks the offset)');
  for (const l of pyOk) acked.push({ who: l.tag, offset: l.offset!, data: record(l.tag) });

  const offsets = acked.map((a) => a.offset);
  t.equal(new Set(offsets).size, offsets.length, 'no two acknowledged appends were told one offset');
  const whole = await collect(new GfsClient({ master: c.master.address }), PATH);
  t.ok(HEAD.equals(whole.subarray(0, HEAD.length)), 'the head is still there');
  t.same(acked.filter((a) => !whole.subarray(a.offset, a.offset + RECORD_BYTES).equals(a.data)).map((a) => `${a.who}@${a.offset}`), [], 'every acknowledged record, of either kind, whole at its offset in the file a reader gets');
  // And on every copy the master counts current.
  const holders = (await call(c.master.port, { command: 'get_chunk_locations', file_path: PATH, chunk_id: chunk })).locations as string[];
  for (const holder of holders) {
    const copy = Buffer.from((await call(Number(holder.split(':')[1]), { command: 'retrieve_chunk', chunk_id: chunk })).data);
    t.same(acked.filter((a) => !copy.subarray(a.offset, a.offset + RECORD_BYTES).equals(a.data)).map((a) => `${a.who}@${a.offset}`), [], `${holder}: every acknowledged record whole at its offset`);
  }
});
