// The repair decision as a table: state in, instructions out (no sockets, no clocks).
import t from 'tap';
import type { Replica } from '../../../src/master/chunk-map.js';
import { classify, decide, readableHolders, type ChunkView } from '../../../src/master/replica-policy.js';
import { chunk, input, NOW, rep, servers } from '../../support/repair-tables.js';

t.test('classify: length, digest, version, raises', async (t) => {
  const s = servers({ a: {}, b: {}, c: {}, d: {} });
  const cases: [string, ChunkView, { current: string[]; stale: string[]; behind?: string[] }][] = [
    ['all equal', chunk('x', 10, { a: rep(10), b: rep(10), c: rep(10) }), { current: ['a', 'b', 'c'], stale: [] }],
    ['a shorter copy after an explicit raise', chunk('x', 20, { a: rep(20), b: rep(20), c: rep(10) }, { raise: { at: NOW, explicit: true } }), { current: ['a', 'b'], stale: ['c'] }],
    // The primary named a and b at 20; a holder's heartbeat ran ahead of its word to 24.
    ['short of a report but not of the end the primary named: behind', chunk('x', 24, { a: rep(20), b: rep(20), c: rep(24), d: rep(16) }, { raise: { at: NOW - 5, explicit: true, length: 20 } }), { current: ['c'], stale: ['d'], behind: ['a', 'b'] }],
    ['shorter, its server reported after the raise', chunk('x', 20, { a: rep(20), c: rep(10) }, { raise: { at: NOW - 5, explicit: false } }), { current: ['a'], stale: ['c'] }],
    ['shorter, no report since the raise', chunk('x', 20, { a: rep(20), c: rep(10) }, { raise: { at: NOW + 5, explicit: false } }), { current: ['a'], stale: [], behind: ['c'] }],
    // A primary's heartbeat reaches the master before its update_chunk_offset: until a raise
    // is recorded, a copy at the recorded end is in step as far as the master knows.
    ['reports longer than the record: adopted; a copy at the record is behind', chunk('x', 10, { a: rep(15), b: rep(15), c: rep(10) }), { current: ['a', 'b'], stale: [], behind: ['c'] }],
    ['short of the record itself: stale', chunk('x', 10, { a: rep(15), c: rep(5) }), { current: ['a'], stale: ['c'] }],
    ['reported after the adopted raise, at its end: behind', chunk('x', 15, { a: rep(20), c: rep(15) }, { raise: { at: NOW - 5, explicit: false, length: 15 } }), { current: ['a'], stale: [], behind: ['c'] }],
    ['reported after the adopted raise, short of its end: stale', chunk('x', 15, { a: rep(20), c: rep(12) }, { raise: { at: NOW - 5, explicit: false, length: 15 } }), { current: ['a'], stale: ['c'] }],
    ['a different digest at the same length: the newest change wins', chunk('x', 10, { a: rep(10, 'new', { changedAt: 5 }), b: rep(10, 'old'), c: rep(10, 'old') }), { current: ['a'], stale: ['b', 'c'] }],
    ['no change seen: the majority digest', chunk('x', 10, { a: rep(10, 'x'), b: rep(10, 'y'), c: rep(10, 'y') }), { current: ['b', 'c'], stale: ['a'] }],
    ['a tie decides nothing', chunk('x', 10, { a: rep(10, 'x'), b: rep(10, 'y') }), { current: ['a', 'b'], stale: [] }],
    ['an older version', chunk('x', 10, { a: rep(10, 'd', { version: 4 }), b: rep(10, 'd', { version: 3 }) }), { current: ['a'], stale: ['b'] }],
    ['version 0 is not told', chunk('x', 10, { a: rep(10, 'd', { version: 4 }), b: rep(10, 'd') }), { current: ['a', 'b'], stale: [] }],
    ['digest unknown yet (a primary\'s word)', chunk('x', 10, { a: rep(10, null), b: rep(10, 'd') }), { current: ['a', 'b'], stale: [] }],
  ];
  for (const [name, c, want] of cases) {
    const got = classify(c, s);
    t.same({ current: got.current, stale: got.stale, behind: got.behind }, { behind: [], ...want }, name);
  }
  const back = servers({ a: {}, b: { awaitingReport: true } });
  t.same(classify(chunk('x', 10, { a: rep(10), b: rep(5) }), back).unknown, ['b'], 'a server back from the dead is not trusted before its report');
});

t.test('readable holders: live first, then dead; stale never; decommissioning while needed', async (t) => {
  const s = servers({ a: {}, b: { state: 'dead' }, c: { state: 'decommissioning' }, d: {}, e: {} });
  t.same(readableHolders(chunk('x', 10, { b: rep(10), a: rep(10), c: rep(10) }), s, 3), ['a', 'c', 'b']);
  t.same(readableHolders(chunk('x', 10, { a: rep(10), d: rep(10), e: rep(10), c: rep(10) }), s, 3), ['a', 'd', 'e'], 'the decommissioning copy is not needed');
  t.same(readableHolders(chunk('x', 20, { a: rep(20), d: rep(10) }, { raise: { at: NOW + 5, explicit: false } }), s, 3), ['a'], 'not proven stale, but a current copy exists');
  t.same(readableHolders(chunk('x', 20, { d: rep(10) }, { raise: { at: NOW + 5, explicit: false } }), s, 3), ['d'], 'nothing better');
});

t.test('decide: copies fewest-first under the per-server cap, spread, room', async (t) => {
  const s = servers({ a: {}, b: {}, c: { state: 'dead' }, d: {}, e: { used: 990 } });
  const plan = decide(input(s, [chunk('one', 100, { a: rep(100), c: rep(100) }), chunk('two', 100, { a: rep(100), b: rep(100), c: rep(100) })]));
  t.same(plan.copies.map((c) => [c.chunk_id, c.source, c.target]), [
    ['one', 'a', 'd'],
    ['one', 'a', 'b'],
    ['two', 'b', 'd'],
  ], 'one live copy first; e has no room; at most 2 per server');
  t.equal(plan.underReplicated, 2);
  const capped = decide(input(s, [chunk('one', 100, { a: rep(100) })], { maxCopiesPerServer: 1 }));
  t.equal(capped.copies.length, 1, 'the source is at its cap after one copy');
  const busy = decide(input(s, [chunk('one', 100, { a: rep(100) })], { inflight: [{ chunk_id: 'one', source: 'a', target: 'b', length: 100 }] }));
  t.same(busy.copies.map((c) => c.target), ['d'], 'a copy in flight counts toward the factor and the cap');
  t.equal(decide(input(s, [chunk('gone', 100, { c: rep(100) })])).lost, 1, 'no live current copy: lost, nothing to copy from');
  // The primary's heartbeat ran ahead of its update_chunk_offset: the others are catching up.
  const fresh = { since: NOW - 10 };
  const ahead = decide(input(s, [chunk('log', 100, { a: rep(140), b: rep(100, 'd1', fresh), d: rep(100, 'd1', fresh) })]));
  t.same([ahead.copies, ahead.deletes, ahead.adopt], [[], [], []], 'copies merely behind are neither copied around nor deleted; an end one copy alone holds is not adopted yet');
  const settled = decide(input(s, [chunk('log', 100, { a: rep(140), b: rep(100), d: rep(100) })]));
  t.same(settled.adopt.map((a) => a.length), [140], 'its server went on reporting long after the others last changed: adopted');
  const silent = servers({ a: { lastReport: NOW - 20 }, b: {}, d: {} });
  t.same(decide(input(silent, [chunk('log', 100, { a: rep(140), b: rep(100, 'd1', fresh), d: rep(100, 'd1', fresh) })])).adopt, [], 'nor while its server fell silent when the others did (killed, not yet declared dead)');
  const two = decide(input(s, [chunk('log', 100, { a: rep(140), b: rep(120, 'd1', fresh), d: rep(100) })]));
  t.same(two.adopt.map((a) => a.length), [120], 'the end two copies reached is adopted');
  t.same(decide(input(s, [chunk('log', 100, { a: rep(140) })])).adopt.map((a) => a.length), [140], 'a lone copy proves its end');
  const leased = decide(input(s, [chunk('log', 100, { a: rep(140), b: rep(140), d: rep(100) }, { leased: true })]));
  t.same(leased.adopt, [], 'under a lease the primary tells the end: reports are not adopted');
});

t.test('decide: stale, excess and garbage deletes', async (t) => {
  const s = servers({ a: {}, b: {}, c: {}, d: { used: 500 }, e: {} });
  const settled = decide(input(s, [chunk('x', 20, { a: rep(20), b: rep(20), c: rep(20), d: rep(10) }, { raise: { at: 0, explicit: true } })]));
  t.same(settled.deletes.map((d) => [d.address, d.reason, d.length]), [['d', 'stale', 10]]);
  const racing = decide(input(s, [chunk('x', 20, { a: rep(20), b: rep(20), c: rep(20), d: rep(10, 'd1', { since: NOW - 10 }) }, { raise: { at: 0, explicit: true } })]));
  t.same(racing.deletes, [], 'a copy that just changed is left to settle');
  const excess = decide(input(s, [chunk('x', 10, { a: rep(10), b: rep(10), c: rep(10), d: rep(10) })]));
  t.same(excess.deletes.map((d) => [d.address, d.reason]), [['d', 'excess']], 'the fullest server loses the extra copy');
  const garbage = [chunk('old', null, { a: rep(5) }, { orphanSince: NOW - 20_000 }), chunk('young', null, { b: rep(5) }, { orphanSince: NOW - 5_000 }), chunk('deleted', null, { c: rep(5) }, { orphanSince: -Infinity })];
  t.same(decide(input(s, garbage)).deletes.map((d) => [d.chunk_id, d.reason]), [['old', 'orphan'], ['deleted', 'orphan']], 'after the grace, not before; a deleted file at once');
});
