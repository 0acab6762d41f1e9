// Repair copies counted as the metrics read them: started, done, failed (refused, timed out, server gone).
import t from 'tap';
import { PendingCopies } from '../../../src/master/pending-copies.js';

const copy = (chunk_id: string, source = 's:1', target = 't:1') => ({ chunk_id, source, target, length: 10 });

t.test('every copy started ends done or failed, once', async (t) => {
  const p = new PendingCopies(1000);
  p.add(copy('a'), 0);
  p.add(copy('b'), 0);
  p.add(copy('c', 's:1', 'u:1'), 0);
  p.add(copy('d', 'v:1', 'w:1'), 0);
  t.same(p.totals(), { started: 4, done: 0, failed: 0 });
  p.done('a', 't:1');
  p.done('a', 't:1');
  t.same(p.totals(), { started: 4, done: 1, failed: 0 }, 'a second report of the same copy is not counted');
  p.failed('b', 't:1');
  t.same(p.totals(), { started: 4, done: 1, failed: 1 }, 'refused by the source');
  p.serverGone('u:1');
  t.same(p.totals(), { started: 4, done: 1, failed: 2 }, 'its target gone');
  p.expire(2000);
  t.same(p.totals(), { started: 4, done: 1, failed: 3 }, 'timed out');
  p.done('z', 't:1');
  p.failed('z', 't:1');
  t.same(p.totals(), { started: 4, done: 1, failed: 3 }, 'copies never started are not counted');
  t.equal(p.size, 0);
});
