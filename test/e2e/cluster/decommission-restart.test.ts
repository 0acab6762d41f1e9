// decommission_server survives a master restart (real master and five chunk server
// processes): the master is killed while the server's chunks are still being copied away,
// the restarted master carries on from its store, and once the server is stopped nothing is
// under-replicated and it is never listed as a holder again.
import t from 'tap';
import { healing, startCluster } from '../../support/cluster.js';
import { locations, status, waitAtFactor } from '../../support/cluster-probes.js';
import { bytes } from '../../support/data.js';
import { call, type Reply } from '../../support/frames.js';
import { waitFor } from '../../support/waits.js';

const FILE = '/decom';
const copies = (out: string): number => out.match(/"msg":"copy instructed"/g)?.length ?? 0;

for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
  t.test(`master restarted (${signal}) in the middle of a decommission: it resumes and finishes`, async (t) => {
    // One copy in flight per server: the decommissioned server's twelve chunks leave one at a time.
    const h = await startCluster(t, healing({ maxCopies: 1 }));
    const victim = h.servers[0]!;
    const chunks = new Map<string, Buffer>();
    for (let i = 0; i < 12; i++) {
      const data = bytes(100_000, 70 + i);
      chunks.set(`dr-${i}`, data);
      t.match(await call(victim.port, { command: 'store_chunk', chunk_id: `dr-${i}`, file_path: FILE, chunk_index: i, data }), { status: 'ok' });
    }
    await waitAtFactor(h.master.port, FILE, chunks, 3);
    const before = copies(h.master.stdout());
    t.match(await call(h.master.port, { command: 'decommission_server', address: victim.address }), { status: 'ok', state: 'decommissioning' });
    await waitFor('the first copy away from it instructed', async () => (copies(h.master.stdout()) > before ? true : undefined), 60_000, 20);
    const row = ((await status(h.master.port)).servers as Reply[]).find((s) => s.address === victim.address)!;
    t.equal(row.decommissioned, false, 'the master stops before the decommission is done');

    h.master.proc.kill(signal);
    await h.master.exited;
    await h.restartMaster();
    t.match(h.master.stdout(), /decommissions recorded before the restart resume/);

    // Until the victim's full report reaches the restarted master, it knows of nothing left on the
    // victim and would call the decommission done: only a verdict made with the report counts.
    await waitFor('decommissioned, by the restarted master, with the victim reported', async () => {
      const r = ((await status(h.master.port)).servers as Reply[]).find((s) => s.address === victim.address);
      return r?.state === 'decommissioning' && r.reports === true && r.decommissioned === true ? true : undefined;
    }, 180_000, 200);
    t.ok(copies(h.master.stdout()) > 0, 'the restarted master instructed copies');
    for (const id of chunks.keys()) t.notOk((await locations(h.master.port, FILE, id)).includes(victim.address), `${id}: not listed while still running`);

    victim.proc.kill('SIGKILL');
    await victim.exited;
    await waitFor('the decommission finished once the server stopped', async () => (/"msg":"decommission finished/.test(h.master.stdout()) ? true : undefined), 60_000, 100);
    const st = await status(h.master.port);
    t.match(st.chunks, { under_replicated: 0, lost: 0 }, 'nothing under-replicated');
    // Not filtered: a listed stopped server would keep this waiting (its bytes cannot be read).
    const healed = await waitAtFactor(h.master.port, FILE, chunks, 3);
    for (const [id, where] of healed) t.notOk(where.includes(victim.address), `${id}: the stopped server is not listed as a holder`);
  });
}
