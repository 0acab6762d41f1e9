// The master's chunk map called directly: what a full report, a heartbeat's changes and a
// primary's word leave behind, as repair and get_chunk_locations read it.
import t from 'tap';
import type { ChunkSummary } from '../../../src/wire/chunk-report.js';
import { ChunkMap } from '../../../src/master/chunk-map.js';

const sum = (chunk_id: string, length: number, digest = 'aa', version = 0): ChunkSummary => ({ chunk_id, length, version, digest });

t.test('a full report replaces what the server held', async (t) => {
  const m = new ChunkMap();
  t.equal(m.size, 0);
  t.same([...m.chunksOn('a:1')], [], 'an unknown server holds nothing');
  t.notOk(m.reports('a:1'));
  t.equal(m.lastReport('a:1'), undefined);
  m.replace('a:1', [sum('x', 10), sum('y', 5)], 100);
  m.replace('b:1', [sum('x', 10)], 100);
  t.equal(m.size, 2);
  t.same([...m.ids()].sort(), ['x', 'y']);
  t.same([...m.replicas('x')!.keys()].sort(), ['a:1', 'b:1']);
  t.same(m.replicas('y')!.get('a:1'), { length: 5, version: 0, digest: 'aa', since: 100, changedAt: 0 }, 'listed in a full report: not seen changing');
  t.ok(m.reports('a:1'));
  t.equal(m.lastReport('a:1'), 100);
  m.replace('a:1', [sum('x', 10)], 200);
  t.equal(m.replicas('y'), undefined, 'a chunk no server holds leaves the map');
  t.same([...m.chunksOn('a:1')], ['x']);
  t.equal(m.replicas('x')!.get('a:1')!.since, 100, 'an unchanged copy keeps the time it was first seen');
  t.equal(m.lastReport('a:1'), 200);
});

t.test('heartbeat changes: set, delete, and the time of the last report', async (t) => {
  const m = new ChunkMap();
  m.changes('q:1', [sum('x', 3)], 50);
  t.notOk(m.reports('q:1'), 'changes alone do not make a server a reporting one');
  t.equal(m.lastReport('q:1'), undefined);
  t.same(m.replicas('x')!.get('q:1'), { length: 3, version: 0, digest: 'aa', since: 50, changedAt: 50 }, 'a change is a mutation');
  m.replace('a:1', [sum('x', 10)], 100);
  m.changes('a:1', [sum('x', 20, 'bb', 2)], 150);
  t.same(m.replicas('x')!.get('a:1'), { length: 20, version: 2, digest: 'bb', since: 150, changedAt: 150 });
  t.equal(m.lastReport('a:1'), 150);
  m.changes('a:1', [], 170);
  t.equal(m.lastReport('a:1'), 170, 'an empty heartbeat of a reporting server is a report');
  m.changes('a:1', [{ chunk_id: 'x', deleted: true }], 180);
  t.notOk(m.replicas('x')!.has('a:1'));
  t.same([...m.chunksOn('a:1')], []);
  t.ok(m.replicas('x')!.has('q:1'), 'the other holder stays');
});

t.test('set: what counts as a change, and a digest filling in a primary\'s word', async (t) => {
  const m = new ChunkMap();
  m.set('x', 'a:1', { length: 10, version: 1, digest: null }, 100, true);
  t.same(m.replicas('x')!.get('a:1'), { length: 10, version: 1, digest: null, since: 100, changedAt: 100 });
  t.same([...m.chunksOn('a:1')], ['x'], 'indexed by server');
  m.set('x', 'a:1', { length: 10, version: 1, digest: 'dd' }, 200, false);
  t.same(m.replicas('x')!.get('a:1'), { length: 10, version: 1, digest: 'dd', since: 100, changedAt: 100 }, 'the digest of the announced bytes is the same change');
  m.set('x', 'a:1', { length: 10, version: 1, digest: null }, 300, true);
  t.equal(m.replicas('x')!.get('a:1')!.digest, 'dd', 'a primary\'s word without a digest does not forget the known one');
  t.equal(m.replicas('x')!.get('a:1')!.since, 100, 'nor is it a change');
  m.set('x', 'a:1', { length: 10, version: 1, digest: 'ee' }, 400, false);
  t.same(m.replicas('x')!.get('a:1'), { length: 10, version: 1, digest: 'ee', since: 400, changedAt: 0 }, 'other bytes at the same length: a change, seen in a report');
  m.set('x', 'a:1', { length: 10, version: 2, digest: 'ee' }, 500, false);
  t.equal(m.replicas('x')!.get('a:1')!.since, 500, 'a new version is a change');
  m.set('x', 'a:1', { length: 11, version: 2, digest: 'ee' }, 600, false);
  t.equal(m.replicas('x')!.get('a:1')!.since, 600, 'a new length is a change');
  m.set('x', 'a:1', { length: 11, version: 2, digest: null }, 700, true);
  m.set('x', 'a:1', { length: 12, version: 2, digest: 'ff' }, 800, false);
  t.same(m.replicas('x')!.get('a:1'), { length: 12, version: 2, digest: 'ff', since: 800, changedAt: 0 }, 'a digest for other bytes than announced is a new change');
  m.set('x', 'b:1', { length: 5, version: 0, digest: null }, 900, true);
  m.set('x', 'b:1', { length: 5, version: 0, digest: 'gg' }, 950, true);
  t.same(m.replicas('x')!.get('b:1'), { length: 5, version: 0, digest: 'gg', since: 900, changedAt: 950 }, 'a mutation with the digest is seen changing now');
  m.set('x', 'c:1', { length: 5, version: 0, digest: null }, 1000, true);
  m.set('x', 'c:1', { length: 6, version: 0, digest: 'hh' }, 1100, false);
  t.same(m.replicas('x')!.get('c:1'), { length: 6, version: 0, digest: 'hh', since: 1100, changedAt: 0 }, 'a digest for another length than announced is a new change');
  m.set('x', 'e:1', { length: 5, version: 0, digest: 'ii' }, 1200, false);
  m.set('x', 'e:1', { length: 5, version: 0, digest: 'jj' }, 1300, true);
  t.same(m.replicas('x')!.get('e:1'), { length: 5, version: 0, digest: 'jj', since: 1300, changedAt: 1300 }, 'other bytes over a known digest: a new change');
  m.set('y', 'c:1', { length: 1, version: 0, digest: 'kk' }, 1400, false);
  t.same([...m.chunksOn('c:1')].sort(), ['x', 'y'], 'a server\'s chunks are all indexed');
});

t.test('dead servers, returning servers, awaited reports', async (t) => {
  const m = new ChunkMap();
  t.notOk(m.awaitingReport('a:1'), 'never reported: nothing awaited');
  m.replace('a:1', [sum('x', 10)], 100);
  t.notOk(m.awaitingReport('a:1'));
  m.unreported('a:1');
  t.ok(m.awaitingReport('a:1'), 'back from the dead: its copies wait for its full report');
  t.notOk(m.reports('a:1'));
  m.changes('a:1', [], 150);
  t.notOk(m.reports('a:1'), 'a heartbeat is not the full report');
  t.equal(m.lastReport('a:1'), undefined);
  m.replace('a:1', [sum('x', 10)], 200);
  t.notOk(m.awaitingReport('a:1'));
  t.ok(m.reports('a:1'));
});

t.test('drop and raise', async (t) => {
  const m = new ChunkMap();
  m.replace('a:1', [sum('x', 10)], 100);
  m.replace('b:1', [sum('x', 10)], 100);
  m.raise('x', 150, true);
  t.same(m.raiseOf('x'), { at: 150, explicit: true });
  m.drop('x', 'a:1');
  t.same([...m.replicas('x')!.keys()], ['b:1']);
  t.same(m.raiseOf('x'), { at: 150, explicit: true }, 'kept while a holder is left');
  t.same([...m.chunksOn('a:1')], []);
  m.drop('x', 'b:1');
  t.equal(m.replicas('x'), undefined);
  t.equal(m.raiseOf('x'), undefined, 'a chunk that left the map forgets its raise');
  t.equal(m.size, 0);
  m.drop('nothing', 'c:1');
  t.equal(m.size, 0, 'dropping an unknown chunk is harmless');
  m.raise('y', 10, false);
  t.same(m.raiseOf('y'), { at: 10, explicit: false });
});

t.test('a word of a mutation older than the copy it names is not taken', async (t) => {
  const m = new ChunkMap();
  m.replace('a:1', [sum('x', 10, 'aa', 3)], 100);
  // The primary names the copy at the end of its latest record, version 5.
  m.set('x', 'a:1', { length: 30, version: 5, digest: null }, 200, true);
  // The holder's heartbeat taken before that record landed arrives after the primary's word.
  m.changes('a:1', [{ chunk_id: 'x', length: 20, version: 4, digest: 'bb' }], 210);
  t.match(m.replicas('x')!.get('a:1'), { length: 30, version: 5 }, 'the newer word stands');
  m.changes('a:1', [{ chunk_id: 'x', length: 40, version: 6, digest: 'cc' }], 220);
  t.match(m.replicas('x')!.get('a:1'), { length: 40, version: 6, digest: 'cc' }, 'a newer change is taken');
  m.replace('a:1', [sum('x', 8, 'dd', 2)], 300);
  t.match(m.replicas('x')!.get('a:1'), { length: 8, version: 2 }, 'a full report replaces whatever was recorded');
});
