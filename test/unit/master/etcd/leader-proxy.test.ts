// A standby's proxy to the leader against a scripted leader on 127.0.0.1: the reply relayed as
// it is, the forwarded request marked follows_leader (no proxy loops), and the bounds: a
// leader that never answers costs one timeout, and past the in-flight cap a request is
// refused at once instead of queued.
import t from 'tap';
import { LeaderProxy } from '../../../../src/master/etcd/leader-proxy.js';
import { scriptedPeer } from '../../../support/scripted-peer.js';

const MAX_REPLY = 1024 * 1024;

t.test('relays the leader\'s reply and marks what it forwards', async (t) => {
  const leader = await scriptedPeer(t, (m) => ({ status: 'ok', files: ['/a'], echoed: m.command }));
  const proxy = new LeaderProxy({ timeoutMs: 5000, maxInFlight: 4, maxReplyBytes: MAX_REPLY });
  t.teardown(() => proxy.close());
  t.same(await proxy.forward(leader.address, { command: 'list_files' }), { status: 'ok', files: ['/a'], echoed: 'list_files' });
  t.same(leader.got, [{ command: 'list_files', follows_leader: true }], 'the leader is asked with the marker, so a stale one answers not_leader');
  t.equal(proxy.proxying, 0);
});

t.test('a leader that never answers: proxy_failed after the timeout; past the cap, refused at once', async (t) => {
  const leader = await scriptedPeer(t, () => undefined);
  const outcomes: string[] = [];
  const proxy = new LeaderProxy({ timeoutMs: 400, maxInFlight: 1, maxReplyBytes: MAX_REPLY, onOutcome: (o) => outcomes.push(o) });
  t.teardown(() => proxy.close());
  const started = Date.now();
  const hanging = proxy.forward(leader.address, { command: 'list_files' });
  t.equal(proxy.proxying, 1);
  const refused = await proxy.forward(leader.address, { command: 'get_chunk_servers' });
  t.ok(Date.now() - started < 300, 'the request past the cap is not queued');
  t.same(refused, { status: 'error', message: 'proxy_failed: 1 requests already in flight to the leader', leader: leader.address });
  const late = await hanging;
  t.ok(Date.now() - started >= 350, 'the hanging request waited about its timeout');
  t.equal(late.status, 'error');
  t.match(late.message, /^proxy_failed: /);
  t.equal(late.leader, leader.address, 'naming the leader, for a client that can follow it');
  t.equal(proxy.proxying, 0, 'the slot is free again');
  t.equal(leader.got.length, 1, 'the refused request never reached the leader');
  t.same(outcomes, ['over_cap', 'failed'], 'each outcome told, for the metrics');
});

t.test('an unreachable leader: proxy_failed', async (t) => {
  const proxy = new LeaderProxy({ timeoutMs: 2000, maxInFlight: 2, maxReplyBytes: MAX_REPLY });
  t.teardown(() => proxy.close());
  const r = await proxy.forward('127.0.0.1:1', { command: 'list_files' });
  t.match(r, { status: 'error', message: /^proxy_failed: /, leader: '127.0.0.1:1' });
});
