// A decommission outlives its leader (real etcd, two masters, four chunk servers): started on
// the leader, which is then killed -9, it is carried on by the new leader, which drains the
// server, reports it, and finishes it once the server stops.
import t from 'tap';
import { locations, status, waitAtFactor, waitForReports } from '../../support/cluster-probes.js';
import { bytes } from '../../support/data.js';
import { leaderOf, startEtcdMasters } from '../../support/etcd-cluster.js';
import { call, type Reply } from '../../support/frames.js';
import { waitFor } from '../../support/waits.js';

const FILE = '/decom';

async function row(port: number, address: string): Promise<Reply | undefined> {
  return ((await status(port)).servers as Reply[]).find((s) => s.address === address);
}

t.test('a decommission started on the leader goes on after its kill -9', async (t) => {
  const c = await startEtcdMasters(t, {
    masters: 2,
    servers: 4,
    beatS: 0.3,
    // One copy in flight per server: the victim's chunks leave one at a time, past the kill.
    master: 'replication_factor = 2\ndead_after_s = 1.5\nmax_copies_per_server = 1\ninstruction_timeout_s = 20\netcd_safe_mode_s = 1\n',
    chunk: 'chunk_report_interval_s = 30\n[master]\nreplication_factor = 2\n',
  });
  const first = await leaderOf(c.masters);
  const standby = c.masters.find((m) => m !== first)!;
  await waitForReports(first.port, c.servers.map((s) => s.address));
  const victim = c.servers[0]!;
  const chunks = new Map<string, Buffer>();
  for (let i = 0; i < 10; i++) {
    const data = bytes(100_000, 90 + i);
    chunks.set(`df-${i}`, data);
    t.match(await call(victim.port, { command: 'store_chunk', chunk_id: `df-${i}`, file_path: FILE, chunk_index: i, data }), { status: 'ok' });
  }
  await waitAtFactor(first.port, FILE, chunks, 2);

  t.match(await call(first.port, { command: 'decommission_server', address: victim.address }), { status: 'ok', state: 'decommissioning' });
  first.proc.kill('SIGKILL');
  const second = await leaderOf([standby]);
  const seen = await waitFor('the victim listed by the new leader', () => row(second.port, victim.address));
  t.equal(seen.state, 'decommissioning', 'the new leader knows of the decommission the old one accepted');

  await waitFor('decommissioned, by the new leader, with the victim reported', async () => {
    const r = await row(second.port, victim.address);
    return r?.state === 'decommissioning' && r.reports === true && r.decommissioned === true ? true : undefined;
  }, 180_000, 200);
  for (const id of chunks.keys()) t.notOk((await locations(second.port, FILE, id)).includes(victim.address), `${id}: the drained server is not listed`);

  victim.proc.kill('SIGKILL');
  await waitFor('the new leader finishes the decommission once the server stopped', () => (/"msg":"decommission finished/.test(second.stdout()) ? true : undefined), 60_000, 100);
  t.match((await status(second.port)).chunks, { under_replicated: 0, lost: 0 }, 'nothing under-replicated');
  const healed = await waitAtFactor(second.port, FILE, chunks, 2);
  for (const [id, where] of healed) t.notOk(where.includes(victim.address), `${id}: the stopped server is not a holder`);
});
