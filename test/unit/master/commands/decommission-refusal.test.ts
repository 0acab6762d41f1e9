import t from 'tap';
import { refusal } from '../../../../src/master/commands/decommission-server.js';
import type { ServerView } from '../../../../src/master/replica-policy.js';

const server = (address: string, o: Partial<ServerView> = {}): [string, ServerView] => [address, { address, state: 'live', location: [0, 0], total: 1000, used: 0, ...o }];

t.test('refused when the other live servers could never hold the factor or the bytes', async (t) => {
  const three = new Map([server('a:1'), server('b:1'), server('c:1')]);
  t.equal(refusal('a:1', three, 3, { bytes: 0 }), '2 other live servers cannot hold replication_factor 3', 'three servers at factor 3');
  t.equal(refusal('a:1', three, 2, { bytes: 0 }), null, 'two others at factor 2');
  const oneDead = new Map([...three, server('d:1', { state: 'dead' })]);
  t.equal(refusal('a:1', oneDead, 3, { bytes: 0 }), '2 other live servers cannot hold replication_factor 3', 'a dead one does not count');
  const oneLeaving = new Map([...three, server('d:1', { state: 'decommissioning' })]);
  t.equal(refusal('a:1', oneLeaving, 3, { bytes: 0 }), '2 other live servers cannot hold replication_factor 3', 'nor one being decommissioned');
  t.equal(refusal('a:1', new Map([server('a:1'), server('b:1')]), 2, { bytes: 0 }), '1 other live server cannot hold replication_factor 2');
  const full = new Map([server('a:1'), server('b:1', { used: 900 }), server('c:1', { used: 950 })]);
  t.equal(refusal('a:1', full, 2, { bytes: 200 }), 'its chunks need 200 bytes elsewhere, the other live servers have 150 free');
  t.equal(refusal('a:1', full, 2, { bytes: 150 }), null, 'just fits');
  const untold = new Map([server('a:1'), server('b:1', { used: 900 }), server('c:1', { total: 0 })]);
  t.equal(refusal('a:1', untold, 2, { bytes: 10_000 }), null, 'a server that has not told its space: the space is not held against it');
});
