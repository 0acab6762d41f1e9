// What a chunk server asks of the rest of the cluster (src/cluster/replication.ts), called
// directly against scripted peers and a scripted master on 127.0.0.1: which servers get a
// new chunk's copies, which get a forwarded append (the chunk's holders, never the
// get_replica_locations pick), and what a failing peer or master leaves the caller.
import { pino } from 'pino';
import t, { type Test } from 'tap';
import { MasterClient } from '../../../../src/chunk-server/cluster/master-client.js';
import { Members } from '../../../../src/chunk-server/cluster/members.js';
import { Cluster, type ClusterOptions } from '../../../../src/chunk-server/cluster/replication.js';
import { Rpc } from '../../../../src/net/rpc.js';
import type { AppendChunkRequest } from '../../../../src/chunk-server/commands/append-chunk.js';
import type { StoreChunkRequest } from '../../../../src/chunk-server/commands/store-chunk.js';
import { scriptedPeer, type Msg, type ScriptedPeer } from '../../../support/scripted-peer.js';

const log = pino({ level: 'silent' });
const SELF = '127.0.0.1:1';
// Nothing listens on port 9 of 127.0.0.1 (discard is not run here): refused at once.
const DOWN = '127.0.0.1:9';

function rpc(): Rpc {
  return new Rpc({ connectTimeoutMs: 2000, requestTimeoutMs: 5000, maxPerPeer: 4, maxReplyBytes: 1 << 20 });
}

function masterClient(master: string, r: Rpc): MasterClient {
  return new MasterClient({
    master,
    address: SELF,
    location: [0, 0],
    heartbeatMs: 60_000,
    timeoutMs: 5000,
    space: () => ({ total: 0, used: 0 }),
    corruptChunks: () => [],
    corruptReported: async () => undefined,
    rpc: r,
    log,
  });
}

async function cluster(t: Test, masterAnswer: ((m: Msg) => Msg | null) | null, members: string[], over: Partial<ClusterOptions> = {}) {
  const r = rpc();
  const master = masterAnswer ? await scriptedPeer(t, masterAnswer) : null;
  const c = new Cluster({
    address: SELF,
    replicationFactor: 3,
    master: master ? masterClient(master.address, r) : null,
    rpc: r,
    members: new Members({ self: SELF, fixed: members, fetch: null, log }),
    controlTimeoutMs: 2000,
    dataTimeoutMs: 5000,
    log,
    ...over,
  });
  return { c, master };
}

const append = (o: Partial<AppendChunkRequest> = {}): AppendChunkRequest => ({
  command: 'append_chunk', chunk_id: 'c1', data: Buffer.from('more'), offset: 10, file_path: 'f', isReplica: false, version: 4, ...o,
});
const store = (o: Partial<StoreChunkRequest> = {}): StoreChunkRequest => ({
  command: 'store_chunk', chunk_id: 'c1', data: Buffer.from('data'), file_path: 'f', chunk_index: 2, client_id: null, isReplica: false, version: null, forward_to: null, ...o,
});

t.test('appends go to the chunk\'s holders, not to get_replica_locations\' pick', async (t) => {
  const [h1, h2, other] = await Promise.all([scriptedPeer(t), scriptedPeer(t), scriptedPeer(t)]);
  const { c, master } = await cluster(t, (m) =>
    m.command === 'get_chunk_locations' ? { status: 'ok', locations: [SELF, h1.address, h2.address, h1.address] } : { status: 'ok', locations: [other.address] },
    [h1.address, h2.address, other.address]);
  const applied = await c.appendReplicas(append());
  t.same(applied.sort(), [h1.address, h2.address].sort(), 'both other holders applied it');
  t.same(master!.got, [{ command: 'get_chunk_locations', file_path: 'f', chunk_id: 'c1' }], 'the master was asked where the chunk lives');
  t.same(other.got, [], 'a server without the chunk gets nothing');
  t.equal(h1.got.length, 1, 'a holder listed twice gets it once');
  t.same(h1.got[0], { command: 'append_chunk', chunk_id: 'c1', data: Buffer.from('more'), offset: 10, file_path: 'f', replica_servers: true, version: 4 });
});

t.test('append forwarding: refused, unreachable and non-member holders are left out', async (t) => {
  const ok = await scriptedPeer(t);
  const refusing = await scriptedPeer(t, () => ({ status: 'error', message: 'no' }));
  const stranger = await scriptedPeer(t);
  const { c } = await cluster(t, () => ({ status: 'ok', locations: [ok.address, refusing.address, DOWN, stranger.address] }), [ok.address, refusing.address, DOWN]);
  t.same(await c.appendReplicas(append({ version: null })), [ok.address]);
  t.same(stranger.got, [], 'an address the member list does not know is never contacted');
  t.notOk('version' in ok.got[0]!, 'no version to forward: none sent');
});

t.test('append forwarding without a master, a file, or an answer', async (t) => {
  const h = await scriptedPeer(t);
  const standalone = await cluster(t, null, [h.address]);
  t.same(await standalone.c.appendReplicas(append()), [], 'standalone: nothing forwarded');
  const reference = await cluster(t, () => ({ status: 'ok', locations: [h.address] }), [h.address]);
  t.same(await reference.c.appendReplicas(append({ file_path: null })), [], 'no file path: the master cannot be asked');
  t.same(reference.master!.got, []);
  const refusing = await cluster(t, () => ({ status: 'error', message: 'file_not_found' }), [h.address]);
  t.same(await refusing.c.appendReplicas(append()), [], 'the master refused');
  const broken = await cluster(t, () => ({ status: 'ok', locations: 'h:1' }), [h.address]);
  t.same(await broken.c.appendReplicas(append()), [], 'a reply that is no list of addresses');
  t.same(h.got, []);
});

t.test('replica targets: the master\'s pick, without ourselves, cut to factor - 1, those with room', async (t) => {
  const room = await scriptedPeer(t);
  const full = await scriptedPeer(t, () => ({ status: 'error', message: 'insufficient_space', available_space: 0 }));
  const spare = await scriptedPeer(t);
  const { c, master } = await cluster(t, () => ({ status: 'ok', locations: [SELF, room.address, room.address, full.address, spare.address] }), []);
  t.same(await c.replicaTargets(1234, 'client-7'), [room.address], 'full refused; spare beyond factor - 1');
  t.same(master!.got, [{ command: 'get_replica_locations', excluding: SELF, client_id: 'client-7' }]);
  t.same(room.got, [{ command: 'check_space', size: 1234 }]);
  t.same(spare.got, [], 'only factor - 1 candidates are asked');
  const down = await cluster(t, () => ({ status: 'ok', locations: [DOWN, room.address] }), []);
  t.same(await down.c.replicaTargets(1, null), [room.address], 'an unreachable candidate is left out');
  t.same(down.master!.got[0]!.client_id, null);
  t.same(await (await cluster(t, null, [])).c.replicaTargets(1, null), [], 'standalone: no copies');
  t.equal(await (await cluster(t, () => ({ status: 'error', message: 'x' }), [])).c.replicaTargets(1, null), null, 'the master could not say');
  t.equal(await (await cluster(t, null, [], { master: masterClient(DOWN, rpc()) })).c.replicaTargets(1, null), null, 'the master is down');
});

t.test('store replicas: every target but ourselves, as replicas with the version', async (t) => {
  const a = await scriptedPeer(t);
  const b = await scriptedPeer(t, () => ({ status: 'error', message: 'insufficient_space' }));
  const { c } = await cluster(t, () => ({ status: 'ok' }), []);
  t.same(await c.storeReplicas([a.address, SELF, b.address, DOWN], store(), 7), [a.address], 'targets need not be in the member list');
  t.same(a.got, [{ command: 'store_chunk', chunk_id: 'c1', file_path: 'f', chunk_index: 2, data: Buffer.from('data'), replica_servers: true, version: 7 }]);
  await c.storeReplicas([a.address], store({ chunk_index: null }), 1);
  t.notOk('chunk_index' in a.got[1]!, 'no chunk_index: none sent');
});

t.test('this server never sends itself a copy, even where it would answer', async (t) => {
  const me = await scriptedPeer(t);
  const peer = await scriptedPeer(t);
  const { c } = await cluster(t, (m) => ({ status: 'ok', locations: [me.address, peer.address] }), [me.address, peer.address], { address: me.address });
  t.same(await c.replicaTargets(10, null), [peer.address], 'not a replica target');
  t.same(await c.storeReplicas([me.address, peer.address], store(), 1), [peer.address], 'not a store target');
  t.same(await c.appendReplicas(append()), [peer.address], 'not an append target');
  t.same(me.got, [], 'never contacted');
});

t.test('a hop with more hops after it waits longer than one data timeout', async (t) => {
  // The next server answers after 1.5 s; one data timeout is 1 s, six hops are allowed 6 s.
  const slow = await scriptedPeer(t, () => new Promise((resolve) => setTimeout(() => resolve({ status: 'ok' }), 1500)));
  const { c } = await cluster(t, null, [], { dataTimeoutMs: 1000 });
  t.same(await c.forwardChain(slow.address, { command: 'replicate_chunk' }, 6), { status: 'ok' });
  await t.rejects(c.forwardChain(slow.address, { command: 'replicate_chunk' }, 1), { message: /no reply within 1000 ms/ }, 'the last hop gets one data timeout');
});

t.test('telling the master: metadata and offsets; failures are false, standalone is true', async (t) => {
  const { c, master } = await cluster(t, () => ({ status: 'ok' }), []);
  const report = { file_path: 'f', chunk_id: 'c1', chunk_locations: [SELF], chunk_size: 4, pending_replication: false, chunk_index: 0 };
  t.equal(await c.reportChunk(report), true);
  t.equal(await c.reportOffset('f', 'c1', 14, [SELF, 'h:2'], 5), true);
  t.equal(await c.reportOffset('f', 'c1', 18, [SELF], undefined), true);
  t.same(master!.got, [
    { command: 'update_file_metadata', ...report },
    { command: 'update_chunk_offset', file_path: 'f', chunk_id: 'c1', offset: 14, chunk_locations: [SELF, 'h:2'], version: 5 },
    { command: 'update_chunk_offset', file_path: 'f', chunk_id: 'c1', offset: 18, chunk_locations: [SELF] },
  ]);
  const refusing = await cluster(t, () => ({ status: 'error', message: 'file_not_found' }), []);
  t.equal(await refusing.c.reportChunk(report), false);
  t.equal(await refusing.c.reportOffset('f', 'c1', 1, [], 1), false);
  const standalone = await cluster(t, null, []);
  t.equal(await standalone.c.reportChunk(report), true);
  t.equal(await standalone.c.reportOffset('f', 'c1', 1, [], 1), true);
});

t.test('changed never fails; chains hop with a longer deadline for more hops', async (t) => {
  const seen: string[] = [];
  const { c } = await cluster(t, null, [], {
    reportChange: async (id) => {
      seen.push(id);
      if (id === 'bad') throw new Error('master away');
    },
  });
  await c.changed('c1');
  await c.changed('bad');
  t.same(seen, ['c1', 'bad']);
  await (await cluster(t, null, [])).c.changed('c1');
  const next: ScriptedPeer = await scriptedPeer(t, (m) => ({ status: 'ok', echo: m.n }));
  t.same(await c.forwardChain(next.address, { command: 'replicate_chunk', n: 3 }, 2), { status: 'ok', echo: 3 });
  t.equal(c.address, SELF);
  t.equal(c.replicationFactor, 3);
  t.equal(await c.mayForward(next.address), false, 'not a member');
  t.equal(await (await cluster(t, null, [next.address])).c.mayForward(next.address), true);
  t.equal(await (await cluster(t, null, [], { members: undefined })).c.mayForward(next.address), false, 'no member list: nobody');
});
