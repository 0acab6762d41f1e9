import t from 'tap';
import { InsufficientSpaceError } from '../../../src/errors.js';
import { SpaceAccount } from '../../../src/storage/index.js';

// Issue 22 item 5: growing reservations wait in arrival order for room that others may give
// back, and are refused only when the room is really taken (the rule in space-account.ts).
const LONG_MS = 60_000;

/** Settles `p` into what a test can compare: 'granted', 'refused', or 'waiting' if still open. */
async function outcome(p: Promise<void>): Promise<string> {
  const seen = await Promise.race([
    p.then(
      () => 'granted',
      (err: unknown) => (err instanceof InsufficientSpaceError ? 'refused' : `failed: ${String(err)}`),
    ),
    new Promise<string>((resolve) => setImmediate(() => resolve('waiting'))),
  ]);
  return seen;
}

t.test('room is granted in arrival order as it comes back', async (t) => {
  const space = new SpaceAccount(1_000, 0);
  const a = space.reserveGrowing(600, LONG_MS);
  const b = space.reserveGrowing(500, LONG_MS);
  const c = space.reserveGrowing(400, LONG_MS);
  const other = space.reserve(500);
  await a.growWhenRoom(400);
  const bWait = b.growWhenRoom(200);
  const cWait = c.growWhenRoom(50);
  t.equal(await outcome(bWait), 'waiting', 'b waits: 100 bytes are free');
  t.equal(await outcome(cWait), 'waiting', 'c fits, but waits behind b, which came first');
  t.equal(space.used, 900);
  other.release();
  t.equal(await outcome(bWait), 'granted', 'wakes on release, oldest first');
  t.equal(await outcome(cWait), 'granted', 'then the next in line');
  t.equal(space.used, 650);
  const late = c.growWhenRoom(1);
  t.equal(await outcome(late), 'granted', 'with no one waiting, what fits is granted at once');
  await a.growWhenRoom(200);
  const bMore = b.growWhenRoom(300);
  t.equal(await outcome(bMore), 'waiting');
  t.equal(await outcome(c.growWhenRoom(0)), 'granted', 'claiming nothing never waits, even behind others');
  a.release();
  t.equal(await outcome(bMore), 'granted');
});

t.test('a growing reservation that could never fit is refused at once', async (t) => {
  const space = new SpaceAccount(1_000, 300);
  t.throws(() => space.reserveGrowing(701, LONG_MS), InsufficientSpaceError, 'more than the settled bytes leave');
  const ok = space.reserveGrowing(700, LONG_MS);
  await ok.growWhenRoom(700);
  const b = space.reserveGrowing(300, LONG_MS);
  const bWait = b.growWhenRoom(100);
  t.equal(await outcome(bWait), 'waiting', 'it would fit if the first gave its bytes back');
  ok.settle(700);
  t.equal(await outcome(bWait), 'refused', 'refused once the first settled: the room is really taken');
  t.equal(b.waiting, false);
  t.equal(space.used, 1_000);
});

t.test('when every growing reservation waits, the youngest is refused', async (t) => {
  const space = new SpaceAccount(1_000, 0);
  const rs = [0, 1, 2].map(() => space.reserveGrowing(500, LONG_MS));
  for (const r of rs) await r.growWhenRoom(300);
  const first = rs[0]!.growWhenRoom(200);
  t.equal(await outcome(first), 'waiting', 'the oldest waits while the others may still finish');
  const second = rs[1]!.growWhenRoom(200);
  t.equal(await outcome(second), 'waiting');
  const third = rs[2]!.growWhenRoom(200);
  t.equal(await outcome(third), 'refused', 'all three wait: the youngest cannot fit after the two older ones');
  t.equal(await outcome(first), 'waiting', 'its bytes are still held until its owner releases them');
  rs[2]!.release();
  t.equal(await outcome(first), 'granted', 'the room it gave back goes to the oldest');
  t.equal(await outcome(second), 'granted');
  t.equal(space.used, 1_000);
});

t.test('a growing reservation with nothing else in flight never waits for itself', async (t) => {
  const space = new SpaceAccount(1_000, 400);
  const r = space.reserveGrowing(600, LONG_MS);
  t.equal(await outcome(r.growWhenRoom(600)), 'granted');
  const plain = space.reserve(0);
  plain.release();
  t.equal(space.used, 1_000);
});

t.test('a waiter is refused at its deadline', async (t) => {
  const space = new SpaceAccount(1_000, 0);
  const holder = space.reserveGrowing(800, LONG_MS);
  await holder.growWhenRoom(800);
  const r = space.reserveGrowing(300, 50);
  // The account's timers do not keep a process alive (a server has its sockets for that).
  const keepAlive = setTimeout(() => undefined, LONG_MS);
  t.teardown(() => clearTimeout(keepAlive));
  const started = Date.now();
  const wait = r.growWhenRoom(300);
  await r.growWhenRoom(1).then(
    () => t.fail('a second wait at once'),
    () => t.pass('one wait at a time'),
  );
  t.equal(await outcome(wait), 'waiting', 'waits while the holder may still fail');
  await t.rejects(wait, InsufficientSpaceError);
  t.ok(Date.now() - started >= 40, 'not before its deadline');
  t.equal(r.waiting, false);
  holder.release();
  r.release();
  t.equal(space.used, 0);
});

t.test('ending a waiting reservation ends its wait and gives its bytes back', async (t) => {
  const space = new SpaceAccount(1_000, 0);
  const holder = space.reserveGrowing(900, LONG_MS);
  await holder.growWhenRoom(900);
  const r = space.reserveGrowing(500, LONG_MS);
  await r.growWhenRoom(100);
  const wait = r.growWhenRoom(400);
  t.equal(await outcome(wait), 'waiting');
  r.release();
  t.equal(await outcome(wait), 'refused', 'released while waiting: refused');
  t.equal(space.used, 900);
  holder.release();
  t.equal(space.used, 0);
  t.equal(space.settled, 0);
});
