// The namespace journal in a real etcd, masters in process: a leader's changes are durable
// in etcd and tailed by a standby; a deposed leader's write is refused and leaves no trace.
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import pino from 'pino';
import { Registry } from 'prom-client';
import t from 'tap';
import { MASTER_DEFAULTS, type MasterConfig } from '../../../src/config/master.js';
import { registerEtcdMetrics } from '../../../src/master/etcd/etcd-metrics.js';
import { startReplication } from '../../../src/master/etcd/replicated.js';
import { Namespace } from '../../../src/master/namespace/namespace.js';
import { startEtcd } from '../../support/etcd.js';
import { tempDir } from '../../support/temp.js';
import { waitFor, waitUntil } from '../../support/waits.js';

const PREFIX = '/fence-test';

async function master(dir: string, name: string, endpoints: string[]) {
  const config: MasterConfig = { ...MASTER_DEFAULTS, etcdEndpoints: endpoints, etcdPrefix: PREFIX, etcdLeaseTtlS: 6, etcdSafeModeS: 1 };
  const { ns } = await Namespace.open(join(dir, name), null);
  const rep = startReplication(config, ns, pino({ level: 'silent' }));
  t.teardown(async () => {
    await rep.close();
    await ns.close();
  });
  return { ns, rep };
}

t.test('changes go through etcd, are batched, tailed by a standby, and fenced', async (t) => {
  const dir = await tempDir(t);
  const etcd = await startEtcd(t, dir);
  const probe = new Etcd3({ hosts: etcd.endpoints });
  t.teardown(() => probe.close());

  const a = await master(dir, 'a', etcd.endpoints);
  const registry = new Registry();
  registerEtcdMetrics(registry, a.rep);
  a.rep.start('127.0.0.1:1001');
  await waitUntil('a leads', () => a.rep.leadership.isLeader());
  t.notOk(a.rep.repairsAllowed(), 'a new leader starts in safe mode: no repairs');
  await waitUntil('safe mode to end (etcd_safe_mode_s = 1)', () => a.rep.repairsAllowed());
  const b = await master(dir, 'b', etcd.endpoints);
  b.rep.start('127.0.0.1:1002');
  await waitUntil('b stands by behind a', () => b.rep.leadership.leader() === '127.0.0.1:1001');
  t.notOk(b.rep.leadership.isLeader());
  t.notOk(b.rep.repairsAllowed(), 'a standby never repairs');

  const paths = Array.from({ length: 40 }, (_, i) => `/f${i}`);
  await Promise.all(paths.map((p, i) => a.ns.addFile(p, i, [])));
  const entries = await probe.getAll().prefix(`${PREFIX}/journal/`).keys();
  t.ok(entries.length >= 1 && entries.length < paths.length, `40 concurrent changes shared etcd transactions (${entries.length} entries)`);
  t.equal(a.ns.journalSeq(), entries.length, 'the leader recorded the last entry it applied');
  await waitUntil('b tails every file', () => paths.every((p) => b.ns.get(p) !== null));
  t.equal(b.ns.get('/f7')?.total_size, 7);

  await a.ns.rename('/f1', '/g1');
  await a.ns.deleteFile('/f2');
  await waitUntil('b tails a rename and a delete', () => b.ns.get('/g1') !== null && b.ns.get('/f1') === null && b.ns.get('/f2') === null);

  // Depose a behind its back: its key goes (as when its lease expires unseen), b takes over.
  await probe.delete().key(`${PREFIX}/leader`);
  await waitUntil('b leads', () => b.rep.leadership.isLeader());
  const refused = await a.ns.addFile('/stale', 1, []).then(
    () => null,
    (err: Error) => err,
  );
  t.match(refused?.message, /^not_leader$/, 'the deposed leader cannot commit');
  t.equal(a.ns.get('/stale'), null, 'nothing of the refused change is left on the deposed leader');
  t.notOk(a.rep.leadership.isLeader(), 'the deposed leader stepped down');
  t.notOk((await probe.getAll().prefix(`${PREFIX}/journal/`).strings()).toString().includes('/stale'), 'nor in etcd');

  await b.ns.addFile('/after', 3, []);
  await waitFor('a, now a standby, tails the new leader', () => a.ns.get('/after') ?? undefined);
  t.equal(b.ns.get('/stale'), null);
  t.equal(b.ns.get('/f7')?.total_size, 7, 'the new leader has what the old one acknowledged');

  const metrics = await registry.metrics();
  t.match(metrics, /master_leader 0\n/, 'the deposed leader reports it stands by');
  t.match(metrics, /master_leadership_changes_total\{event="elected"\} 1\n/);
  t.match(metrics, /master_leadership_changes_total\{event="stepped_down"\} 1\n/);
  t.match(metrics, /master_etcd_journal_seconds_count\{outcome="committed"\} [1-9]/, 'journal transactions are timed');
});
