// Stale replicas (real master and chunk server processes): a holder down during an
// append_chunk through the primary, down during a reference client's prepare/commit append,
// and a commit that failed on one holder. The master's record of the chunk's end stays true,
// and no holder the master names serves the old bytes.
import t, { type Test } from 'tap';
import { healing, startCluster, type Cluster, type Member } from '../../support/cluster.js';
import { bytesOn, fileMetadata, locations, status, waitAtFactor } from '../../support/cluster-probes.js';
import { bytes } from '../../support/data.js';
import { call, type Reply } from '../../support/frames.js';
import { waitFor } from '../../support/waits.js';

const BASE = 200_000;

async function storeOne(h: Cluster, file: string, id: string): Promise<{ data: Buffer; holders: string[] }> {
  const data = bytes(BASE, id.length + 3);
  const r = await call(h.servers[0]!.port, { command: 'store_chunk', chunk_id: id, file_path: file, chunk_index: 0, data });
  if (r.status !== 'ok') throw new Error(`store: ${r.message}`);
  await waitAtFactor(h.master.port, file, new Map([[id, data]]), 3);
  // A slow chain makes the master copy too, and then delete the extra copy: the tests below
  // need the holders settled, or a holder's copy may go in the middle of their prepare/commit.
  await waitFor('no copy or delete in flight', async () => {
    const c = (await status(h.master.port)).chunks as Reply;
    return c.copies_in_flight === 0 && c.deletes_pending === 0 ? true : undefined;
  }, 60_000, 100);
  const held = await waitAtFactor(h.master.port, file, new Map([[id, data]]), 3);
  return { data, holders: held.get(id)!.slice(0, 3) };
}

/** Until the chunk is back at the factor with `want`, checks that no listed holder ever serves `old`. */
async function healsWithoutOldBytes(t: Test, h: Cluster, file: string, id: string, want: Buffer, old: Buffer): Promise<void> {
  await waitFor('three current holders', async () => {
    const where = await locations(h.master.port, file, id);
    let good = 0;
    for (const a of where) {
      const got = await bytesOn(a, id);
      if (got === null) continue;
      if (got.equals(old)) throw new Error(`the master listed ${a}, which serves the old bytes`);
      if (got.equals(want)) good++;
    }
    return good >= 3 ? true : undefined;
  }, 90_000, 100).catch((err: Error) => {
    if (/old bytes/.test(err.message)) t.fail(err.message);
    throw err;
  });
  t.pass(`${id}: three holders with the new bytes, none listed with the old`);
}

async function restart(h: Cluster, s: Member): Promise<Member> {
  return h.start(s.id);
}

t.test('stale replicas are never listed, are deleted and replaced', async (t) => {
  const h = await startCluster(t, healing());
  const byAddress = (a: string): Member => h.servers.find((s) => s.address === a)!;

  t.test('a holder down during append_chunk through the primary', async (t) => {
    const { data, holders } = await storeOne(h, '/a', 'app');
    const primary = byAddress(holders[0]!);
    const down = byAddress(holders.find((a) => a !== primary.address)!);
    down.proc.kill('SIGKILL');
    await down.exited;
    const extra = bytes(300, 99);
    const r = await call(primary.port, { command: 'append_chunk', chunk_id: 'app', data: extra, offset: BASE, file_path: '/a' });
    t.same(r, { status: 'ok', new_offset: BASE + 300, version: 2 });
    const meta = (await fileMetadata(h.master.port, '/a'))!;
    t.equal(meta.chunk_offsets.app, BASE + 300, 'the master records the new end (update_chunk_offset from the primary)');
    t.equal(meta.last_chunk_offset, BASE + 300);
    t.notOk((await locations(h.master.port, '/a', 'app')).includes(down.address), 'the missed holder is not listed');
    await restart(h, down);
    await healsWithoutOldBytes(t, h, '/a', 'app', Buffer.concat([data, extra]), data);
    await waitFor('the stale copy deleted or replaced', async () => {
      const got = await bytesOn(down.address, 'app');
      return got === null || got.length === BASE + 300 ? true : undefined;
    }, 60_000, 200);
  });

  t.test('a holder down during a reference client\'s prepare/commit append', async (t) => {
    const { data, holders } = await storeOne(h, '/b', 'ref');
    const down = byAddress(holders[1]!);
    down.proc.kill('SIGKILL');
    await down.exited;
    const meta = (await fileMetadata(h.master.port, '/b'))!;
    const offset = meta.last_chunk_offset as number;
    const extra = bytes(500, 7);
    const tx = String(Date.now());
    // As the reference client: prepare and commit on the holders it can reach, then tell the master.
    const reachable = holders.filter((a) => a !== down.address);
    for (const a of reachable) t.match(await call(byAddress(a).port, { command: 'prepare_append', chunk_id: 'ref', transaction_id: tx, data: extra, offset }), { status: 'ok' });
    for (const a of reachable) t.match(await call(byAddress(a).port, { command: 'commit_append', chunk_id: 'ref', transaction_id: tx }), { status: 'ok' });
    t.same(await call(h.master.port, { command: 'update_chunk_offset', file_path: '/b', chunk_id: 'ref', offset: offset + 500 }), { status: 'ok' });
    t.notOk((await locations(h.master.port, '/b', 'ref')).includes(down.address));
    await restart(h, down);
    await healsWithoutOldBytes(t, h, '/b', 'ref', Buffer.concat([data, extra]), data);
  });

  t.test('a commit that failed on one holder', async (t) => {
    const { data, holders } = await storeOne(h, '/c', 'cmt');
    const extra = bytes(700, 5);
    const tx = String(Date.now());
    for (const a of holders) t.match(await call(byAddress(a).port, { command: 'prepare_append', chunk_id: 'cmt', transaction_id: tx, data: extra, offset: BASE }), { status: 'ok' });
    // The last holder never gets its commit (the client lost it); it rolls back.
    for (const a of holders.slice(0, 2)) t.match(await call(byAddress(a).port, { command: 'commit_append', chunk_id: 'cmt', transaction_id: tx }), { status: 'ok' });
    t.match(await call(byAddress(holders[2]!).port, { command: 'rollback_append', chunk_id: 'cmt', transaction_id: tx }), { status: 'ok' });
    t.same(await call(h.master.port, { command: 'update_chunk_offset', file_path: '/c', chunk_id: 'cmt', offset: BASE + 700 }), { status: 'ok' });
    // Holders report a commit before acknowledging it, so the two that committed are current
    // when update_chunk_offset arrives, and the third is never listed.
    t.notOk((await locations(h.master.port, '/c', 'cmt')).includes(holders[2]!), 'the copy that missed the commit is not listed');
    await healsWithoutOldBytes(t, h, '/c', 'cmt', Buffer.concat([data, extra]), data);
  });

  t.test('reports validated: bad ids and absurd sizes are refused, the master keeps serving', async (t) => {
    const beat = (report: unknown): Promise<Reply> => call(h.master.port, { command: 'heartbeat', address: '10.0.0.9:1', location: [1, 1], space_info: { total: 100, used: 0 }, chunk_report: report });
    t.same(await beat([{ chunk_id: '../x', length: 1, version: 1, digest: 'ab' }]), { status: 'error', message: 'bad_request: chunk_report chunk_id' });
    t.same(await beat([{ chunk_id: 'ok', length: 2 ** 50, version: 1, digest: 'ab' }]), { status: 'error', message: 'bad_request: chunk_report length' });
    t.same(await beat([{ chunk_id: 'ok', length: 1, version: -1, digest: 'ab' }]), { status: 'error', message: 'bad_request: chunk_report version' });
    t.same(await beat([{ chunk_id: 'ok', length: 1, version: 1, digest: 'XYZ' }]), { status: 'error', message: 'bad_request: chunk_report digest' });
    t.same(await beat('nope'), { status: 'error', message: 'bad_request: chunk_report' });
    t.same(await call(h.master.port, { command: 'heartbeat', address: '10.0.0.9:1', chunk_changes: [{ chunk_id: 'a', deleted: 'yes' }] }), { status: 'error', message: 'bad_request: chunk_changes length' });
    t.match(await call(h.master.port, { command: 'cluster_status' }), { status: 'ok' });
  });
});
