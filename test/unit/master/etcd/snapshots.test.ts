// How a snapshot is cut into parts for etcd: each part's JSON well under the request limit,
// every record in one part exactly once and in order, a record larger than a part alone.
import t from 'tap';
import type { JournalRecord } from '../../../../src/master/namespace/journal-record.js';
import { partsOf } from '../../../../src/master/etcd/snapshots.js';

const PART_BYTES = 512 * 1024;

const chunk = (i: number, pad = 0): JournalRecord => ({ t: 'chunk', id: `c${i}${'x'.repeat(pad)}`, rec: { length: i, version: 1 } });

t.test('parts stay under the bound and keep every record in order', async (t) => {
  const records = Array.from({ length: 20_000 }, (_, i) => chunk(i, 60));
  const parts = partsOf(records);
  t.ok(parts.length >= 3, `${parts.length} parts`);
  t.ok(parts.every((p) => p.length <= PART_BYTES), 'each part within 512 KiB');
  t.same(parts.flatMap((p) => JSON.parse(p) as JournalRecord[]), records);
});

t.test('an empty namespace is one empty part; a record past the bound is a part alone', async (t) => {
  t.same(partsOf([]), ['[]']);
  const parts = partsOf([chunk(1), chunk(2, PART_BYTES), chunk(3)]);
  t.equal(parts.length, 3);
  t.same(JSON.parse(parts[1]!), [chunk(2, PART_BYTES)]);
});
