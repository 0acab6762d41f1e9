// A cluster that heals itself (real master and five chunk server processes): holders killed
// one at a time, a master restarted mid-repair, a server stopped (SIGSTOP) and resumed.
import t from 'tap';
import { healing, startCluster, type Member } from '../../support/cluster.js';
import { bytesOn, locations, status, waitAtFactor } from '../../support/cluster-probes.js';
import { bytes } from '../../support/data.js';
import { call, type Reply } from '../../support/frames.js';
import { waitFor } from '../../support/waits.js';

const FILE = '/heal';

/** Stores `n` chunks of FILE through `primary`; returns id -> bytes. */
async function storeChunks(primary: Member, n: number, size = 120_000): Promise<Map<string, Buffer>> {
  const chunks = new Map<string, Buffer>();
  for (let i = 0; i < n; i++) {
    const id = `heal-${i}`;
    const data = bytes(size, i + 11);
    const r = await call(primary.port, { command: 'store_chunk', chunk_id: id, file_path: FILE, chunk_index: i, data });
    if (r.status !== 'ok') throw new Error(`store ${id}: ${r.message}`);
    chunks.set(id, data);
  }
  return chunks;
}

t.test('kill -9 of holders one at a time: every chunk returns to the factor, from a current copy', async (t) => {
  const h = await startCluster(t, healing());
  const chunks = await storeChunks(h.servers[0]!, 6);
  await waitAtFactor(h.master.port, FILE, chunks, 3);
  const gone = new Set<string>();
  // factor - 1 = 2 holders may fail; each one only once the cluster healed from the last.
  for (const victim of [h.servers[1]!, h.servers[0]!]) {
    victim.proc.kill('SIGKILL');
    await victim.exited;
    gone.add(victim.address);
    const healed = await waitAtFactor(h.master.port, FILE, chunks, 3, gone);
    for (const [id, where] of healed) t.notOk(where.slice(0, 3).some((a) => gone.has(a)), `${id} held by live servers`);
  }
  const st = await status(h.master.port);
  t.match(st.chunks, { under_replicated: 0, lost: 0 });
  t.same((st.servers as Reply[]).filter((s) => s.state === 'dead').map((s) => s.address).sort(), [...gone].sort(), 'the killed servers are listed dead');
  t.match(h.master.stdout(), /"msg":"copy instructed"/);
});

t.test('master restarted in the middle of re-replication: the repair resumes', async (t) => {
  const h = await startCluster(t, healing({ maxCopies: 1 }));
  const chunks = await storeChunks(h.servers[0]!, 12);
  await waitAtFactor(h.master.port, FILE, chunks, 3);
  const victim = h.servers[0]!;
  victim.proc.kill('SIGKILL');
  await waitFor('the first copy instructed', async () => (/"msg":"copy instructed"/.test(h.master.stdout()) ? true : undefined), 60_000, 50);
  h.master.proc.kill('SIGKILL');
  await h.master.exited;
  await h.restartMaster();
  t.match(h.master.stdout(), /"files":1/, 'the namespace survived the kill');
  await waitAtFactor(h.master.port, FILE, chunks, 3, new Set([victim.address]));
  t.match((await status(h.master.port)).chunks, { under_replicated: 0, lost: 0 });
});

t.test('a server stopped (SIGSTOP) is dead; resumed, its copies count again and the extra ones are removed', async (t) => {
  const h = await startCluster(t, healing());
  const chunks = await storeChunks(h.servers[0]!, 4);
  const before = await waitAtFactor(h.master.port, FILE, chunks, 3);
  const victim = h.servers.find((s) => [...before.values()].every((w) => w.includes(s.address)))!;
  t.ok(victim, 'a server holding every chunk');
  victim.proc.kill('SIGSTOP');
  await waitAtFactor(h.master.port, FILE, chunks, 3, new Set([victim.address]));
  victim.proc.kill('SIGCONT');
  // Back: four current copies of each chunk, one too many; the excess goes, the data stays.
  await waitFor('exactly the factor again, the resumed server live', async () => {
    const st = await status(h.master.port);
    if ((st.servers as Reply[]).find((s) => s.address === victim.address)?.state !== 'live') return undefined;
    for (const id of chunks.keys()) {
      let held = 0;
      for (const s of h.servers) if (await bytesOn(s.address, id)) held++;
      if (held !== 3 || (await locations(h.master.port, FILE, id)).length !== 3) return undefined;
    }
    return true;
  }, 90_000, 300);
  for (const [id, data] of chunks) {
    for (const a of await locations(h.master.port, FILE, id)) t.ok((await bytesOn(a, id))?.equals(data), `${id} on ${a}`);
  }
});
