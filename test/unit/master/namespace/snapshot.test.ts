// A namespace snapshot on real lmdb stores: taken at the journal position it stands at, and
// loaded over another store it replaces everything the journal carries, index included.
import { join } from 'node:path';
import t from 'tap';
import type { JournalRecord } from '../../../../src/master/namespace/journal-record.js';
import { Namespace } from '../../../../src/master/namespace/namespace.js';
import { tempDir } from '../../../support/temp.js';

async function open(dir: string, name: string): Promise<Namespace> {
  const { ns } = await Namespace.open(join(dir, name), null);
  t.teardown(() => ns.close());
  return ns;
}

// Stands in for the etcd journal: numbers each change, so the store records a position.
function journal(): { append(records: readonly JournalRecord[]): Promise<number> } {
  let seq = 0;
  return { append: () => Promise.resolve(++seq) };
}

t.test('take a snapshot on one store, load it over another', async (t) => {
  const dir = await tempDir(t);
  const a = await open(dir, 'a');
  a.useJournal(journal());
  await a.addFile('/f', 10, ['c1', 'c2']);
  await a.recordChunk('/f', 'c1', ['h:1'], 10, 0, 4);
  await a.addFile('/g', 0, ['c2']);
  await a.markDecommissioning('h:9');
  const snap = a.snapshot();
  t.equal(snap.seq, a.journalSeq(), 'the snapshot stands at the position of the store it was taken from');
  t.ok(snap.seq >= 4);

  const b = await open(dir, 'b');
  b.applyJournal(1, [{ t: 'file', path: '/stale', meta: { file_path: '/stale', total_size: 1, chunk_ids: ['old'], chunk_locations: {}, chunk_offsets: { old: 0 }, last_chunk_id: 'old', last_chunk_offset: 0 } }, { t: 'decommission', address: 'h:8', rec: { since: 1 } }]);
  b.loadSnapshot(snap);
  t.same(b.list().sort(), ['/f', '/g'], 'what the store held before is gone');
  t.same(b.get('/f'), a.get('/f'));
  t.same(b.chunk('c1'), { length: 10, version: 4 });
  t.same(b.filesOf('c2').sort(), ['/f', '/g'], 'the chunk -> files index is rebuilt');
  t.notOk(b.isReferenced('old'));
  t.same(b.decommissioning(), ['h:9'], 'decommissions come with it');
  t.equal(b.journalSeq(), snap.seq, 'and the position, from which tailing goes on');
  b.applyJournal(snap.seq + 1, [{ t: 'decommission', address: 'h:9', rec: null }]);
  t.same(b.decommissioning(), [], 'a journaled end of a decommission applies');
});
