// What a chunk server's heartbeats tell the master about its chunks, called directly on a
// real chunk store in a temp dir: full reports, changes in between, and what a failed
// heartbeat gives back.
import t, { type Test } from 'tap';
import { ChunkReporter } from '../../../../src/chunk-server/cluster/chunk-reports.js';
import { ChunkStore } from '../../../../src/storage/index.js';
import { tempDir } from '../../../support/temp.js';

async function setup(t: Test) {
  const { store } = await ChunkStore.open(await tempDir(t), 1 << 24);
  t.teardown(() => store.close());
  const clock = { ms: 1000 };
  let nudges = 0;
  const r = new ChunkReporter(store, 60_000, () => nudges++, () => clock.ms);
  t.teardown(() => r.close());
  return { store, r, clock, nudges: () => nudges };
}

const ids = (list: unknown) => (list as { chunk_id: string }[]).map((c) => c.chunk_id).sort();

t.test('full at first, then changes, full again when due or wanted', async (t) => {
  const { store, r, clock, nudges } = await setup(t);
  await store.write('c1', Buffer.from('hello'));
  t.equal(nudges(), 1, 'a change asks for an early heartbeat');
  t.equal(r.pending, 1);
  const first = r.next();
  t.same(ids(first.fields.chunk_report), ['c1'], 'the first beat carries the whole list');
  t.notOk('chunk_changes' in first.fields);
  t.equal(r.pending, 0, 'the full report covers the changes');
  first.settle(true);
  t.same(r.next().fields, {}, 'nothing changed: nothing to say');
  await store.write('c2', Buffer.from('world'));
  await store.delete('c1');
  const changes = r.next();
  t.same((changes.fields.chunk_changes as { chunk_id: string }[]).map((c) => c.chunk_id), ['c2', 'c1']);
  t.same((changes.fields.chunk_changes as Record<string, unknown>[])[1], { chunk_id: 'c1', deleted: true });
  changes.settle(true);
  clock.ms += 59_999;
  t.same(r.next().fields, {}, 'the interval is not over');
  clock.ms += 1;
  const due = r.next();
  t.same(ids(due.fields.chunk_report), ['c2'], 'a full report every interval');
  due.settle(true);
  t.same(r.next().fields, {});
  r.wantFull();
  t.same(ids(r.next().fields.chunk_report), ['c2'], 'the master asked for one');
});

t.test('a failed beat gives its changes back, unless newer ones came', async (t) => {
  const { store, r } = await setup(t);
  r.next().settle(true);
  await store.write('c1', Buffer.from('a'));
  await store.write('c2', Buffer.from('b'));
  const failed = r.next();
  await store.write('c2', Buffer.from('bbb'));
  failed.settle(false);
  const again = (r.next().fields.chunk_changes as { chunk_id: string; length: number }[]).map((c) => [c.chunk_id, c.length]).sort();
  t.same(again, [['c1', 1], ['c2', 3]], 'the newer change of c2 wins over the one given back');
});

t.test('a failed full report makes the next one full too and keeps the changes', async (t) => {
  const { store, r } = await setup(t);
  await store.write('c1', Buffer.from('a'));
  const failed = r.next();
  t.ok(failed.fields.chunk_report);
  failed.settle(false);
  t.equal(r.pending, 1, 'the changes it covered are back');
  const again = r.next();
  t.same(ids(again.fields.chunk_report), ['c1']);
  again.settle(true);
  t.same(r.next().fields, {});
});

t.test('failed copies ride along', async (t) => {
  const { r } = await setup(t);
  const beat = r.next({ failed_copies: [{ chunk_id: 'x', target: 't:1' }] });
  t.same(beat.fields.failed_copies, [{ chunk_id: 'x', target: 't:1' }]);
  beat.settle(true);
  t.same(r.next({ failed_copies: [] }).fields, {}, 'an empty list is not sent');
});

t.test('closed: changes are no longer collected', async (t) => {
  const { store, r, nudges } = await setup(t);
  r.close();
  await store.write('c1', Buffer.from('a'));
  t.equal(r.pending, 0);
  t.equal(nudges(), 0);
});
