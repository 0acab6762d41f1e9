// More of the repair decision as tables (with replica-policy.test.ts): the edges of
// the stale rule, which holders a reader is sent to, and where copies go when there are
// more servers than the replication factor (copies stop at the factor, never beyond).
import t from 'tap';
import type { Replica } from '../../../src/master/chunk-map.js';
import { spreadScore } from '../../../src/master/placement-policy.js';
import { classify, decide, readableHolders, type ChunkView, type RepairInput } from '../../../src/master/replica-policy.js';
import { chunk, input, NOW, rep, servers } from '../../support/repair-tables.js';

const copies = (plan: ReturnType<typeof decide>) => plan.copies.map((c) => `${c.chunk_id}:${c.source}>${c.target}`);
const explicit = { raise: { at: NOW, explicit: true } };

t.test('classify: which copies raise the length, which set the version and the digest', async (t) => {
  const s = servers({ a: {}, b: {}, c: {}, dead: { state: 'dead' }, back: { awaitingReport: true } });
  const cases: [string, ChunkView, { length?: number; version?: number; current: string[]; stale: string[]; behind?: string[]; unknown?: string[] }][] = [
    ['every copy shorter than the record', chunk('x', 20, { a: rep(10), b: rep(10) }), { length: 20, current: [], stale: ['a', 'b'] }],
    ['a longer copy on a dead server raises nothing', chunk('x', 10, { a: rep(10), dead: rep(15) }, { raise: { at: NOW + 5, explicit: false } }), { length: 10, current: ['a'], stale: ['dead'] }],
    ['nor on a server whose report is awaited', chunk('x', 10, { a: rep(10), back: rep(15) }), { length: 10, current: ['a'], stale: [], unknown: ['back'] }],
    ['nor on a server the master does not know', chunk('x', 10, { a: rep(10), gone: rep(15) }), { length: 10, current: ['a'], stale: ['gone'] }],
    ['a null length (no file) is 0', chunk('x', null, { a: rep(0), b: rep(0) }), { length: 0, current: ['a', 'b'], stale: [] }],
    ['the version comes from copies at the length', chunk('x', 10, { a: rep(10, 'd1', { version: 2 }), b: rep(5, 'd1', { version: 9 }) }, explicit), { version: 2, current: ['a'], stale: ['b'] }],
    ['the recorded version counts', chunk('x', 10, { a: rep(10, 'd1', { version: 5 }), b: rep(10, 'd1', { version: 3 }), c: rep(10, 'd1') }, { version: 5 }), { version: 5, current: ['a', 'c'], stale: ['b'] }],
    ['a version equal to the newest is current', chunk('x', 10, { a: rep(10, 'd1', { version: 4 }), b: rep(10, 'd1', { version: 4 }) }, { version: 4 }), { current: ['a', 'b'], stale: [] }],
    ['the digest comes from copies at the length', chunk('x', 10, { a: rep(10, 'x'), b: rep(10, 'x'), c: rep(5, 'y', { changedAt: 99 }) }, explicit), { current: ['a', 'b'], stale: ['c'] }],
    ['and of the newest version', chunk('x', 10, { a: rep(10, 'x', { version: 2 }), b: rep(10, 'y', { version: 1, changedAt: 50 }) }), { current: ['a'], stale: ['b'] }],
    ['the latest change wins over an older one', chunk('x', 10, { a: rep(10, 'x', { changedAt: 10 }), b: rep(10, 'y', { changedAt: 20 }), c: rep(10, 'x', { changedAt: 5 }) }), { current: ['b'], stale: ['a', 'c'] }],
    ['the first of equal changes wins', chunk('x', 10, { a: rep(10, 'x', { changedAt: 20 }), b: rep(10, 'y', { changedAt: 20 }) }), { current: ['a'], stale: ['b'] }],
    ['a change without a digest decides nothing', chunk('x', 10, { a: rep(10, null, { changedAt: 30 }), b: rep(10, 'y'), c: rep(10, 'y'), d: rep(10, 'z') }), { current: ['a', 'b', 'c'], stale: ['d'] }],
    ['a majority ignores unknown digests', chunk('x', 10, { a: rep(10, null), b: rep(10, null), c: rep(10, 'y') }), { current: ['a', 'b', 'c'], stale: [] }],
    ['a longer copy with the same bytes so far is still stale when it is not the committed one', chunk('x', 10, { a: rep(10), dead: rep(15) }), { current: ['a'], stale: ['dead'] }],
    ['shorter, reported exactly when the length was raised: not proven', chunk('x', 20, { a: rep(20), b: rep(10) }, { raise: { at: NOW - 1, explicit: false } }), { current: ['a'], stale: [], behind: ['b'] }],
    ['shorter on an unknown server, not proven either', chunk('x', 20, { a: rep(20), gone: rep(10) }, { raise: { at: NOW - 50, explicit: false } }), { current: ['a'], stale: [], behind: ['gone'] }],
  ];
  for (const [name, c, want] of cases) {
    const got = classify(c, s);
    const picked = { current: got.current, stale: got.stale, behind: got.behind, unknown: got.unknown, ...(want.length === undefined ? {} : { length: got.length }), ...(want.version === undefined ? {} : { version: got.version }) };
    t.same(picked, { behind: [], unknown: [], ...want }, name);
  }
  const noReports = servers({ a: {}, ref: { lastReport: undefined } });
  t.same(classify(chunk('x', 20, { a: rep(20), ref: rep(10) }, { raise: { at: 0, explicit: false } }), noReports).behind, ['ref'], 'a server that sends no reports never proves a copy stale');
});

t.test('readable holders: order, unknown servers, behind copies', async (t) => {
  const s = servers({ a: {}, b: {}, c: {}, d: { state: 'dead' }, m: { state: 'decommissioning' } });
  const c = chunk('x', 10, { a: rep(10), b: rep(10), c: rep(10) });
  t.same(readableHolders(c, s, 3, ['c', 'a']), ['c', 'a', 'b'], 'the order the primary recorded, then the rest');
  t.same(readableHolders(c, s, 3, ['b']), ['b', 'a', 'c']);
  t.same(readableHolders(c, s, 3), ['a', 'b', 'c']);
  t.same(readableHolders(chunk('x', 10, { c: rep(10), a: rep(10) }), s, 3, ['a']), ['a', 'c']);
  t.same(readableHolders(chunk('x', 10, { a: rep(10), gone: rep(10), d: rep(10) }), s, 3, ['gone']), ['a', 'gone', 'd'], 'a server the master no longer knows is as good as dead');
  t.same(readableHolders(chunk('x', 10, { m: rep(10), a: rep(10), d: rep(10) }), s, 3), ['a', 'm', 'd'], 'live, decommissioning while needed, dead');
  t.same(readableHolders(chunk('x', 10, { m: rep(10), a: rep(10), b: rep(10) }), s, 2), ['a', 'b'], 'not needed at factor 2');
  const behind = { raise: { at: NOW + 5, explicit: false } };
  t.same(readableHolders(chunk('x', 20, { b: rep(10), d: rep(20) }, behind), s, 3), ['d', 'b'], 'a current copy on a dead server comes before one not proven stale');
  t.same(readableHolders(chunk('x', 20, { m: rep(20), b: rep(10) }, behind), s, 3), ['m'], 'so is one on a decommissioning server');
  t.same(readableHolders(chunk('x', 20, { b: rep(10), d: rep(10) }, { length: 20, raise: { at: NOW + 5, explicit: false } }), s, 3), ['b'], 'behind copies on dead servers are never offered');
});

t.test('re-replication stops at the factor, with more servers than the factor', async (t) => {
  const s = servers({ a: {}, b: {}, c: {}, d: {}, e: {}, f: {} });
  const plan = decide(input(s, [chunk('one', 100, { a: rep(100) })], { maxCopiesPerServer: 10 }));
  t.equal(plan.copies.length, 2, 'two copies for factor 3, though four servers have room');
  t.equal(plan.underReplicated, 1);
  t.same(decide(input(s, [chunk('two', 100, { a: rep(100), b: rep(100) })], { maxCopiesPerServer: 10 })).copies.length, 1);
  t.same(decide(input(s, [chunk('ok', 100, { a: rep(100), b: rep(100), c: rep(100) })])).copies, [], 'at the factor: nothing to do');
  const pending = decide(input(s, [chunk('one', 100, { a: rep(100) })], { maxCopiesPerServer: 10, inflight: [{ chunk_id: 'one', source: 'a', target: 'b', length: 100 }] }));
  t.same(copies(pending), ['one:a>f'], 'one in flight: one more, far from the copies it has (a and the pending b do not count as placed)');
  const both = decide(input(s, [chunk('one', 100, { a: rep(100) })], { maxCopiesPerServer: 10, inflight: [{ chunk_id: 'one', source: 'a', target: 'b', length: 100 }, { chunk_id: 'one', source: 'a', target: 'c', length: 100 }] }));
  t.same(both.copies, [], 'two in flight: none');
  t.equal(both.underReplicated, 1, 'still under-replicated until they land');
  const other = decide(input(s, [chunk('one', 100, { a: rep(100) })], { maxCopiesPerServer: 10, inflight: [{ chunk_id: 'zzz', source: 'd', target: 'e', length: 100 }] }));
  t.equal(other.copies.length, 2, 'a copy of another chunk in flight does not count');
});

t.test('where copies go: spread, room, load and the cap', async (t) => {
  const line = servers({ a: {}, b: {}, c: {}, d: {}, e: {} }); // x = 0, 20, 40, 60, 80
  t.same(copies(decide(input(line, [chunk('x', 10, { a: rep(10) })]))), ['x:a>e', 'x:a>c'], 'farthest from a, then farthest from both');
  const room = servers({ a: {}, b: { total: 1000, used: 950 }, c: { total: 1000, used: 900 } });
  t.same(copies(decide(input(room, [chunk('x', 100, { a: rep(100) })]))), ['x:a>c'], 'exactly the room it needs is enough; less is not');
  const unknownSpace = servers({ a: {}, b: { total: 0, used: 5000 } });
  t.same(copies(decide(input(unknownSpace, [chunk('x', 100, { a: rep(100) })]))), ['x:a>b'], 'space not told yet: no check');
  const incoming = servers({ a: {}, b: { state: 'decommissioning' }, c: { total: 1000, used: 850 } });
  t.same(copies(decide(input(incoming, [chunk('x', 100, { a: rep(100) }), chunk('y', 100, { a: rep(100) })], { maxCopiesPerServer: 10, factor: 2 }))),
    ['x:a>c'], 'room already promised to a copy in this pass is not offered twice');
  const promised = decide(input(incoming, [chunk('y', 100, { a: rep(100) })], { maxCopiesPerServer: 10, factor: 2, inflight: [{ chunk_id: 'x', source: 'a', target: 'c', length: 100 }] }));
  t.same(promised.copies, [], 'nor room promised in an earlier pass');
  const capped = servers({ a: {}, b: {}, c: {}, d: {} });
  t.same(copies(decide(input(capped, [chunk('x', 10, { a: rep(10), b: rep(10) }), chunk('y', 10, { a: rep(10), b: rep(10) }), chunk('z', 10, { a: rep(10), b: rep(10) })], { maxCopiesPerServer: 1, factor: 3 }))),
    ['x:a>d', 'y:b>c'], 'each source and target one copy at a time; the least loaded source first');
  const busyTarget = decide(input(capped, [chunk('x', 10, { a: rep(10) })], { maxCopiesPerServer: 1, factor: 2, inflight: [{ chunk_id: 'q', source: 'b', target: 'd', length: 10 }] }));
  t.same(copies(busyTarget), ['x:a>c'], 'a target at its cap is passed over');
  const ties = servers({ a: { location: [0, 0] }, z: { location: [50, 50] }, y: { location: [50, 50] } });
  t.same(copies(decide(input(ties, [chunk('x', 10, { a: rep(10) })], { factor: 2 }))), ['x:a>y'], 'equal scores: the smaller address');
  const noTarget = servers({ a: {}, b: { state: 'decommissioning' }, c: { state: 'dead' } });
  t.same(decide(input(noTarget, [chunk('x', 10, { a: rep(10) })])).copies, [], 'decommissioning and dead servers are no targets');
  const fromDecom = servers({ m: { state: 'decommissioning' }, b: {} });
  t.same(copies(decide(input(fromDecom, [chunk('x', 10, { m: rep(10) })], { factor: 1 }))), ['x:m>b'], 'a decommissioning server is a source');
});

t.test('fewest live copies first, ties by id', async (t) => {
  const s = servers({ a: {}, b: {}, c: {}, d: {} });
  const chunks = [chunk('m', 10, { a: rep(10), b: rep(10) }), chunk('k', 10, { a: rep(10) }), chunk('j', 10, { b: rep(10), c: rep(10) }), chunk('l', 10, { c: rep(10) })];
  const plan = decide(input(s, chunks, { maxCopiesPerServer: 1 }));
  t.same(copies(plan), ['k:a>d', 'l:c>b'], 'k and l have one copy; the cap leaves nothing for j and m');
  t.equal(plan.underReplicated, 4);
});

t.test('excess copies: only settled ones, the fullest server first, ties by address', async (t) => {
  const s = servers({ a: { used: 100 }, b: { used: 900 }, c: { used: 500 }, d: { used: 100 }, e: { total: 0 } });
  const cut = (o: Partial<ChunkView> = {}, reps: Record<string, Replica> = { a: rep(10), b: rep(10), c: rep(10), d: rep(10) }, more: Partial<RepairInput> = {}) =>
    decide(input(s, [chunk('x', 10, reps, o)], more)).deletes.map((d) => `${d.address}:${d.reason}`);
  t.same(cut(), ['b:excess'], 'four copies at factor 3: the fullest goes');
  t.same(cut({}, { a: rep(10), b: rep(10), c: rep(10), d: rep(10) }, { factor: 2 }), ['b:excess', 'c:excess']);
  t.same(cut({}, { a: rep(10), b: rep(10, 'd1', { since: NOW - 10 }), c: rep(10), d: rep(10) }), ['c:excess'], 'a copy that just changed is not cut');
  t.same(cut({}, { a: rep(10), d: rep(10), e: rep(10), c: rep(10, 'd1', { since: NOW - 10 }) }), ['d:excess'], 'equal fullness: the larger address goes (a stable order)');
  t.same(cut({}, { a: rep(10), b: rep(10), c: rep(10) }), [], 'at the factor: none');
  const inflight = decide(input(s, [chunk('x', 10, { a: rep(10), b: rep(10), c: rep(10), d: rep(10) })], { inflight: [{ chunk_id: 'x', source: 'a', target: 'e', length: 10 }] }));
  t.same(inflight.deletes, [], 'not while a copy of it is in flight');
  const m = servers({ a: {}, b: {}, c: {}, m: { state: 'decommissioning', used: 999 } });
  t.same(decide(input(m, [chunk('x', 10, { a: rep(10), b: rep(10), c: rep(10), m: rep(10) })])).deletes, [], 'a decommissioning copy is no excess');
  const full = servers({ a: { total: 1000, used: 5000 }, b: { total: 1000, used: 1000 }, c: { used: 0 }, d: { used: 0 } });
  t.same(decide(input(full, [chunk('x', 10, { a: rep(10), b: rep(10), c: rep(10), d: rep(10) })])).deletes.map((d) => d.address), ['b'], 'over-full counts as full: then by address');
});

t.test('stale and garbage deletes: settled, not on dead servers, after the grace', async (t) => {
  const s = servers({ a: {}, b: {}, c: {}, d: {}, dead: { state: 'dead' } });
  const stale = decide(input(s, [chunk('x', 20, { a: rep(20), b: rep(20), c: rep(20), d: rep(10, 'd1', { since: NOW - 1000 }), dead: rep(10) }, explicit)]));
  t.same(stale.deletes.map((d) => `${d.address}:${d.reason}:${d.length}:${d.digest}`), ['d:stale:10:d1'], 'settled at exactly settle_ms; never on a dead server');
  const orphans = decide(input(s, [chunk('g', null, { a: rep(5, 'ee'), dead: rep(5) }, { orphanSince: NOW - 10_000 }), chunk('h', null, { b: rep(5) })]));
  t.same(orphans.deletes.map((d) => `${d.chunk_id}:${d.address}:${d.reason}:${d.digest}`), ['g:a:orphan:ee'], 'at exactly the grace; not on dead servers; never without a time');
  t.same(orphans.copies, [], 'garbage is not repaired');
  t.equal(orphans.underReplicated, 0);
  t.equal(orphans.lost, 0);
});

t.test('adopting a longer length the reports prove', async (t) => {
  const s = servers({ a: {}, b: {}, c: {} });
  const plan = decide(input(s, [chunk('x', 10, { a: rep(15, 'd1', { version: 3 }), b: rep(15, 'd1', { version: 3 }), c: rep(15, 'd1', { version: 3 }) }), chunk('y', 10, { a: rep(10), b: rep(10), c: rep(10) })]));
  t.same(plan.adopt, [{ chunk_id: 'x', length: 15, version: 3 }], 'only the chunk whose copies are longer than recorded');
  t.same(plan.copies, []);
  t.same(plan.deletes, []);
  t.equal(plan.underReplicated, 0);
});

t.test('lost chunks: no current copy on a server that is not dead', async (t) => {
  const s = servers({ a: {}, dead: { state: 'dead' }, m: { state: 'decommissioning' } });
  const plan = decide(input(s, [chunk('x', 10, { dead: rep(10) }), chunk('y', 10, { m: rep(10) }), chunk('z', 20, { a: rep(10) })]));
  t.equal(plan.lost, 2, 'x (dead holder only) and z (only a stale copy)');
  t.equal(plan.underReplicated, 1, 'y is under-replicated, not lost');
  t.same(copies(plan), ['y:m>a']);
  t.same(plan.deletes, [], 'the stale copy of a lost chunk is kept');
});

t.test('ties and orders do not depend on the order chunks and copies come in', async (t) => {
  const s = servers({ a: {}, b: {}, c: {}, d: {} });
  for (const order of [['k', 'l'], ['l', 'k']]) {
    const chunks = order.map((id) => (id === 'k' ? chunk('k', 10, { a: rep(10) }) : chunk('l', 10, { c: rep(10) })));
    t.same(copies(decide(input(s, chunks, { maxCopiesPerServer: 1 }))), ['k:a>d', 'l:c>b'], `equal live copies: by id (${order})`);
  }
  const eq = servers({ a: {}, b: {}, c: {}, d: {} });
  for (const reps of [{ a: rep(10), b: rep(10), c: rep(10), d: rep(10) }, { d: rep(10), c: rep(10), b: rep(10), a: rep(10) }]) {
    t.same(decide(input(eq, [chunk('x', 10, reps)], { factor: 2 })).deletes.map((d) => d.address), ['d', 'c'], 'equal fullness: the larger addresses go, whatever the order');
  }
  const loaded = servers({ a: {}, b: {}, c: {}, d: {} });
  for (const reps of [{ a: rep(10), b: rep(10) }, { b: rep(10), a: rep(10) }]) {
    const plan = decide(input(loaded, [chunk('x', 10, reps)], { inflight: [{ chunk_id: 'q', source: 'a', target: 'd', length: 10 }] }));
    t.same(copies(plan), ['x:b>d'], 'the least loaded source');
  }
  const atCap = servers({ a: {}, b: {}, c: {}, d: {} });
  t.same(copies(decide(input(atCap, [chunk('x', 10, { a: rep(10) }), chunk('y', 10, { a: rep(10) })], { factor: 2, maxCopiesPerServer: 1 }))), ['x:a>d'], 'a source at its cap copies no more');
  const tied = servers({ a: { location: [0, 0] }, y: { location: [50, 50] }, z: { location: [50, 50] } });
  t.same(copies(decide(input(tied, [chunk('x', 10, { a: rep(10) })], { factor: 2 }))), ['x:a>y'], 'equal scores: the smaller address, whatever the order');
  const worse = servers({ a: { location: [0, 0] }, z: { location: [100, 100] }, b: { location: [10, 0] } });
  t.same(copies(decide(input(worse, [chunk('x', 10, { a: rep(10) })], { factor: 2 }))), ['x:a>z'], 'a smaller address does not beat a better score');
});

t.test('versions not told, unknown digests and unknown servers', async (t) => {
  const s = servers({ a: {}, b: {}, c: {}, d: {}, e: {} });
  const cases: [string, ChunkView, { current: string[]; stale: string[] }][] = [
    ['a copy of no told version with the newest change sets the digest', chunk('x', 10, { a: rep(10, 'x', { version: 2 }), b: rep(10, 'x', { version: 2 }), c: rep(10, 'y', { changedAt: 50 }) }), { current: ['c'], stale: ['a', 'b'] }],
    ['a copy at the newest version with the newest change sets it', chunk('x', 10, { a: rep(10, 'x', { version: 2, changedAt: 60 }), c: rep(10, 'y', { changedAt: 50 }) }), { current: ['a'], stale: ['c'] }],
    ['unknown digests are no majority', chunk('x', 10, { a: rep(10, null), b: rep(10, null), c: rep(10, 'y'), d: rep(10, 'y'), e: rep(10, 'z') }), { current: ['a', 'b', 'c', 'd'], stale: ['e'] }],
  ];
  for (const [name, c, want] of cases) {
    const got = classify(c, s);
    t.same({ current: got.current, stale: got.stale }, want, name);
  }
  const plan = decide(input(s, [chunk('x', 10, { gone: rep(10) }), chunk('g', null, { gone: rep(5) }, { orphanSince: -Infinity }), chunk('y', 20, { a: rep(20), b: rep(20), c: rep(20), gone: rep(10) }, explicit)]));
  t.equal(plan.lost, 1, 'a copy only on a server the master does not know is lost');
  t.same(plan.deletes, [], 'nothing is sent to a server the master does not know');
  t.equal(spreadScore({ location: [0, 30], total: 0, used: 0 }, [[0, 30]], { distanceWeight: 1, spaceWeight: 0 }), 1, 'on top of a copy, off the x axis');
});
