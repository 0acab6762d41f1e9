// The lease table with a clock the test moves: one primary at a time, a new one only after
// the old lease ran out, renewals by the holder, and a restarted master's wait from its file.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Leases } from '../../../src/master/leases.js';

const LEASE_MS = 1000;

function clock(): { now: () => number; advance(ms: number): void } {
  let ms = 1_000_000;
  return { now: () => ms, advance: (d) => void (ms += d) };
}

t.test('one primary at a time; a new one only once the old lease ran out', async (t) => {
  const c = clock();
  const l = Leases.inMemory(LEASE_MS, c.now);
  const first = await l.acquire('x', ['a', 'b', 'c'], null);
  t.equal(first.kind, 'granted');
  t.equal(first.kind !== 'none' && first.lease.primary, 'a', 'a client asking: the first current holder');
  const epoch1 = first.kind !== 'none' ? first.lease.epoch : 0;
  t.ok(epoch1 > 0);
  const other = await l.acquire('x', ['a', 'b', 'c'], 'b');
  t.equal(other.kind, 'held', 'another holder asking while the lease is in force is told who holds it');
  t.equal(other.kind !== 'none' && other.lease.primary, 'a');
  c.advance(LEASE_MS - 1);
  const stillA = await l.acquire('x', ['b', 'c'], 'b');
  t.equal(stillA.kind, 'held', 'the primary no longer current: its lease still stands until it runs out');
  c.advance(1);
  t.equal(l.current('x'), null, 'ran out');
  const toB = await l.acquire('x', ['b', 'c'], 'b');
  t.equal(toB.kind, 'granted');
  t.equal(toB.kind !== 'none' && toB.lease.primary, 'b');
  t.ok(toB.kind !== 'none' && toB.lease.epoch > epoch1, 'each new grant is a later epoch');
});

t.test('the holder renews; a server that is not a current holder gets nothing', async (t) => {
  const c = clock();
  const l = Leases.inMemory(LEASE_MS, c.now);
  t.equal((await l.acquire('x', ['a', 'b'], 'z')).kind, 'none', 'not a current holder');
  t.equal((await l.acquire('x', [], null)).kind, 'none', 'no current live holder');
  const g = await l.acquire('x', ['a', 'b'], 'b');
  t.equal(g.kind !== 'none' && g.lease.primary, 'b', 'the asking holder gets it');
  c.advance(LEASE_MS / 2);
  const r = await l.acquire('x', ['a', 'b'], 'b');
  t.equal(r.kind, 'granted');
  t.equal(r.kind !== 'none' && r.lease.remainingMs, LEASE_MS, 'renewed for a whole lease');
  t.equal(r.kind !== 'none' && r.lease.epoch, g.kind !== 'none' && g.lease.epoch, 'a renewal is no new grant');
  c.advance(LEASE_MS - 1);
  t.equal(l.current('x')?.primary, 'b');
});

t.test('a restarted master waits out the horizon it kept, at most one lease', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'leases-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'lease-horizon.json');
  const fresh = await Leases.open(LEASE_MS, file);
  t.equal(fresh.restartWaitMs, 0, 'no file: no wait');
  t.equal((await fresh.acquire('x', ['a'], null)).kind, 'granted');
  const kept = JSON.parse(await readFile(file, 'utf8')) as { until: number };
  t.ok(kept.until >= Date.now() + LEASE_MS, 'the horizon covers the lease before it is granted');
  const c = clock();
  const restarted = await Leases.open(LEASE_MS, file, c.now);
  t.ok(restarted.restartWaitMs > 0 && restarted.restartWaitMs <= LEASE_MS, 'waits, at most one lease');
  t.equal((await restarted.acquire('x', ['a'], null)).kind, 'none', 'no grant during the wait');
  c.advance(LEASE_MS);
  t.equal((await restarted.acquire('x', ['a'], 'a')).kind, 'granted', 'granted once the wait is over');
});

t.test('a new leader over etcd grants nothing, renewals included, for one lease from taking office', async (t) => {
  const c = clock();
  const l = Leases.inMemory(LEASE_MS, c.now);
  t.equal((await l.acquire('x', ['a', 'b'], 'a')).kind, 'granted', 'before: grants as usual');
  c.advance(LEASE_MS);
  l.holdOff();
  t.equal((await l.acquire('x', ['a', 'b'], 'b')).kind, 'none', 'just elected: another holder gets nothing');
  t.equal((await l.acquire('y', ['a', 'b'], null)).kind, 'none', 'nor a client asking');
  t.ok(l.restartWaitMs > 0, 'the wait is reported (get_lease says why)');
  c.advance(LEASE_MS - 1);
  t.equal((await l.acquire('x', ['a', 'b'], 'a')).kind, 'none', 'one ms before the lease is out: still nothing');
  c.advance(1);
  const after = await l.acquire('x', ['a', 'b'], 'b');
  t.equal(after.kind !== 'none' && after.lease.primary, 'b', 'a lease later: granted');
});
