import t from 'tap';
import { Decommissions } from '../../../src/master/decommissions.js';
import type { Namespace } from '../../../src/master/namespace/namespace.js';

const store = { decommissioning: () => [], markDecommissioning: async () => undefined, clearDecommissioning: async () => undefined } as unknown as Namespace;

t.test('progress: chunks left and an ETA from the rate since the first count', async (t) => {
  const d = new Decommissions(store);
  t.same(d.progress('a:1', 10, 0), { chunks_left: 10, eta_s: null }, 'no rate yet');
  t.same(d.progress('a:1', 10, 5_000), { chunks_left: 10, eta_s: null }, 'nothing moved: no guess');
  t.same(d.progress('a:1', 6, 8_000), { chunks_left: 6, eta_s: 12 }, '4 chunks in 8 s: 6 more take 12 s');
  t.same(d.progress('a:1', 0, 9_000), { chunks_left: 0, eta_s: 0 }, 'done');
  t.same(d.progress('a:1', 20, 10_000), { chunks_left: 20, eta_s: null }, 'a count that grew starts the estimate again');
  t.same(d.progress('b:1', 0, 0), { chunks_left: 0, eta_s: 0 }, 'nothing to move');
  await d.finish('a:1');
  t.same(d.progress('a:1', 3, 20_000), { chunks_left: 3, eta_s: null }, 'a finished one is forgotten');
});
