// The member list a chunk server forwards chunk data to, called directly with a member
// fetch the test controls and a clock it moves.
import { pino } from 'pino';
import t from 'tap';
import { Members } from '../../../../src/chunk-server/cluster/members.js';

const log = pino({ level: 'silent' });

function members(lists: (string[] | Error)[], fixed: string[] | null = null) {
  const clock = { ms: 10_000 };
  let calls = 0;
  const fetch = async (): Promise<string[]> => {
    const next = lists[Math.min(calls++, lists.length - 1)]!;
    if (next instanceof Error) throw next;
    return next;
  };
  const m = new Members({ self: 'me:1', fixed, fetch, log, now: () => clock.ms });
  return { m, clock, calls: () => calls };
}

t.test('standalone: the fixed list, never refreshed, never ourselves', async (t) => {
  const { m, calls } = members([['other:1']], ['p:1', 'me:1']);
  t.equal(await m.allows('p:1'), true);
  t.equal(await m.allows('me:1'), false, 'not even when listed');
  t.equal(await m.allows('q:1'), false);
  await m.refresh();
  t.equal(calls(), 0, 'a fixed list is never fetched');
  t.equal(await m.allows('other:1'), false);
  const none = new Members({ self: 'me:1', fixed: null, fetch: null, log });
  await none.refresh();
  t.equal(await none.allows('p:1'), false, 'no master and no list: nobody');
});

t.test('the master\'s list, refreshed after beats and on a miss at most once a second', async (t) => {
  const { m, clock, calls } = members([['a:1'], ['a:1', 'b:1'], ['c:1']]);
  t.equal(await m.allows('a:1'), true, 'the first miss fetches');
  t.equal(calls(), 1);
  t.equal(await m.allows('b:1'), false, 'a miss within a second asks nobody');
  t.equal(calls(), 1);
  clock.ms += 999;
  t.equal(await m.allows('b:1'), false);
  t.equal(calls(), 1);
  clock.ms += 1;
  t.equal(await m.allows('b:1'), true, 'a second later a miss refreshes');
  t.equal(calls(), 2);
  await m.refresh();
  t.equal(calls(), 3, 'after a heartbeat: always');
  t.equal(await m.allows('a:1'), false, 'the new list replaces the old');
  t.equal(await m.allows('me:1'), false);
});

t.test('a failed fetch keeps the previous list; concurrent refreshes share one fetch; a miss asks after them', async (t) => {
  const { m, clock, calls } = members([['a:1'], new Error('master away'), ['b:1'], ['b:1'], ['b:1', 'new:1']]);
  await m.refresh();
  await m.refresh();
  t.equal(calls(), 2);
  t.equal(await m.allows('a:1'), true, 'kept');
  clock.ms += 5000;
  await Promise.all([m.refresh(), m.refresh()]);
  t.equal(calls(), 3, 'one fetch in flight at a time');
  t.equal(await m.allows('b:1'), true);
  clock.ms += 5000;
  // A refresh begun before a server registered cannot answer for it: the miss fetches after it.
  const [, allowed] = await Promise.all([m.refresh(), m.allows('new:1')]);
  t.equal(allowed, true, 'the miss saw the newer list');
  t.equal(calls(), 5, 'the refresh under way, then one of its own');
});

t.test('misses at the same moment share one fetch, and each sees its answer', async (t) => {
  // A small put's primary sends to two replicas that joined after its last refresh.
  const { m, calls } = members([['x:1'], ['x:1', 'b:1', 'c:1']]);
  await m.refresh();
  t.same(await Promise.all([m.allows('b:1'), m.allows('c:1'), m.allows('nobody:1')]), [true, true, false]);
  t.equal(calls(), 2, 'one fetch for the three misses');
});
