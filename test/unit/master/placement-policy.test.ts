// Where new copies go, called directly: the rankings get_chunk_servers and
// get_replica_locations answer with (over a registry on a clock the test moves), and the
// score repair places copies by.
import t from 'tap';
import { Nodes } from '../../../src/master/nodes.js';
import { chunkServersFor, replicaOrder, spreadScore, type Placeable, type PlacementWeights } from '../../../src/master/placement-policy.js';

const w = (distanceWeight: number, spaceWeight: number): PlacementWeights => ({ distanceWeight, spaceWeight });
const HALVES = w(0.5, 0.5);

function nodes(): { n: Nodes; clock: { ms: number } } {
  const clock = { ms: 1000 };
  return { n: new Nodes({ deadAfterMs: 100, clientTimeoutMs: 500, now: () => clock.ms }), clock };
}

t.test('get_chunk_servers: nearest three for a known client, more room first on a tie', async (t) => {
  const { n, clock } = nodes();
  n.heartbeat('far:1', [90, 90], { total: 100, used: 0 });
  n.heartbeat('near:1', [1, 0], { total: 100, used: 0 });
  n.heartbeat('tie-full:1', [0, 5], { total: 100, used: 90 });
  n.heartbeat('tie-room:1', [5, 0], { total: 100, used: 10 });
  n.heartbeat('mid:1', [20, 20], null);
  t.same(chunkServersFor(n, null), ['far:1', 'near:1', 'tie-full:1', 'tie-room:1', 'mid:1'], 'no client: every live one in registration order');
  t.same(chunkServersFor(n, 'nobody'), ['far:1', 'near:1', 'tie-full:1', 'tie-room:1', 'mid:1'], 'unknown client: the same');
  n.registerClient('c', [0, 0]);
  t.same(chunkServersFor(n, 'c'), ['near:1', 'tie-room:1', 'tie-full:1']);
  clock.ms += 50;
  n.heartbeat('far:1', null, null);
  n.heartbeat('mid:1', null, null);
  clock.ms += 60;
  t.same(chunkServersFor(n, 'c'), ['mid:1', 'far:1'], 'dead servers are not offered');
  t.same(chunkServersFor(n, null), ['far:1', 'mid:1']);
});

t.test('get_replica_locations order: score of distance and fullness, excluding some', async (t) => {
  const { n, clock } = nodes();
  n.heartbeat('empty-far:1', [100, 100], { total: 100, used: 0 });
  n.heartbeat('full-near:1', [0, 0], { total: 100, used: 100 });
  n.heartbeat('half-mid:1', [30, 40], { total: 100, used: 50 });
  n.heartbeat('unknown-space:1', [50, 50], null);
  n.heartbeat('zero-total:1', [60, 80], { total: 0, used: 5 });
  n.heartbeat('over-full:1', [0, 1], { total: 100, used: 400 });
  t.same(replicaOrder(n, null, new Set(['half-mid:1']), HALVES), ['empty-far:1', 'full-near:1', 'unknown-space:1', 'zero-total:1', 'over-full:1'], 'no client: registration order');
  n.registerClient('c', [0, 0]);
  // scores: empty-far 0.5, full-near 0.5*0+0.5 = 0.5 (tie kept in order), half-mid 0.5*50/141.4+0.25 = 0.427,
  // unknown-space 0.5*70.7/141.4 = 0.25, zero-total 0.5*100/141.4 = 0.354, over-full 0.5*1/141.4+0.5 = 0.504
  t.same(replicaOrder(n, 'c', new Set(), HALVES), ['unknown-space:1', 'zero-total:1', 'half-mid:1', 'empty-far:1', 'full-near:1', 'over-full:1']);
  t.same(replicaOrder(n, 'c', new Set(['unknown-space:1', 'zero-total:1']), HALVES), ['half-mid:1', 'empty-far:1', 'full-near:1', 'over-full:1']);
  clock.ms += 101;
  t.same(replicaOrder(n, 'c', new Set(), HALVES), [], 'dead servers are not offered');
});

t.test('the spread score', async (t) => {
  const s = (location: [number, number], used = 0, total = 1000): Placeable => ({ location, total, used });
  const D = Math.sqrt(2 * 100 ** 2);
  t.equal(spreadScore(s([0, 0]), [], w(0.6, 0.4)), 0, 'no copies yet, empty: best');
  t.equal(spreadScore(s([0, 0]), [[0, 0]], w(1, 0)), 1, 'on top of a copy: worst');
  t.equal(spreadScore(s([30, 40]), [[0, 0]], w(1, 0)), 1 - 50 / D);
  t.equal(spreadScore(s([0, 0]), [[30, 40], [100, 100]], w(1, 0)), 1 - 50 / D, 'the nearest copy counts');
  t.equal(spreadScore(s([10, 0]), [[40, 40]], w(1, 0)), 1 - 50 / D, 'both coordinates');
  t.equal(spreadScore(s([0, 0], 250), [], w(0, 1)), 0.25);
  t.equal(spreadScore(s([0, 0], 5000), [], w(0, 1)), 1, 'over-full is full');
  t.equal(spreadScore(s([0, 0], 5000, 0), [], w(0, 1)), 0, 'space unknown: empty');
  t.equal(spreadScore(s([0, 100], 500), [[0, 0]], w(0.5, 0.5)), 0.5 * (1 - 100 / D) + 0.25);
});
