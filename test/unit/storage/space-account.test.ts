import t from 'tap';
import { InsufficientSpaceError } from '../../../src/errors.js';
import { SpaceAccount } from '../../../src/storage/index.js';

t.test('a reservation holds its bytes until it is settled or released, once', async (t) => {
  const space = new SpaceAccount(10_000, 1_000);
  const r = space.reserve(4_000);
  t.equal(space.used, 5_000);
  t.throws(() => space.reserve(5_001), InsufficientSpaceError, 'what does not fit is refused');
  t.equal(space.used, 5_000, 'a refused reservation holds nothing');
  r.settle(1_000);
  t.equal(space.used, 2_000, 'settled: the account keeps what the work left on disk');
  r.release();
  r.settle(0);
  t.equal(space.used, 2_000, 'ending it again changes nothing');
});

t.test('a reservation grows while it fits and gives back all it holds', async (t) => {
  const space = new SpaceAccount(10_000, 0);
  const r = space.reserve(0);
  t.ok(r.grow(6_000));
  t.notOk(r.grow(5_000), 'past the limit');
  t.equal(r.bytes, 6_000);
  r.release();
  t.equal(space.used, 0);
  t.notOk(r.grow(1), 'an ended reservation takes nothing more');
  t.equal(space.used, 0);
});

t.test('settling for more than was held takes the difference on, limit or not', async (t) => {
  const space = new SpaceAccount(1_000, 900);
  space.reserve(0).settle(500);
  t.equal(space.used, 1_400);
  t.equal(space.available, 0);
});

t.test('bytes counted at start-up are adopted without a check against the limit', async (t) => {
  const space = new SpaceAccount(1_000, 2_000);
  const r = space.adopt(1_500);
  t.equal(space.used, 2_000, 'adopting moves nothing');
  r.release();
  t.equal(space.used, 500);
});
