// Garbage collection, delete_file and decommission_server on a real cluster (a master and
// five chunk server processes).
import t from 'tap';
import { charge } from '../../../src/storage/index.js';
import { healing, startCluster } from '../../support/cluster.js';
import { bytesOn, fileMetadata, status, waitAtFactor } from '../../support/cluster-probes.js';
import { bytes } from '../../support/data.js';
import { call, type Reply } from '../../support/frames.js';
import { waitFor } from '../../support/waits.js';

const GRACE_S = 4;

t.test('garbage, delete_file and decommission', async (t) => {
  const h = await startCluster(t, healing({ gcGraceS: GRACE_S }));
  const [s1, s2, s3] = h.servers as [typeof h.servers[0], typeof h.servers[0], typeof h.servers[0]];
  const usedOn = async (address: string): Promise<number> =>
    (((await status(h.master.port)).servers as Reply[]).find((s) => s.address === address)!.space_info as Reply).used as number;

  t.test('orphans are collected after gc_grace_s and not before; a late update_file_metadata keeps its chunk', async (t) => {
    const stored = Date.now();
    const orphan = bytes(50_000, 1);
    t.match(await call(s2.port, { command: 'store_chunk', chunk_id: 'orph', data: orphan, replica_servers: true }), { status: 'ok' });
    t.match(await call(s3.port, { command: 'store_chunk', chunk_id: 'late', data: orphan, replica_servers: true }), { status: 'ok' });
    await waitFor('both reported as orphans', async () => (((await status(h.master.port)).chunks as Reply).orphaned >= 2 ? true : undefined), 30_000, 100);
    // The primary's word arrives late, within the grace.
    t.same(await call(h.master.port, { command: 'update_file_metadata', file_path: '/late', chunk_id: 'late', chunk_locations: [s3.address], chunk_size: orphan.length }), { status: 'ok' });
    await waitFor('the orphan deleted', async () => ((await bytesOn(s2.address, 'orph')) === null ? true : undefined), 60_000, 100);
    t.ok(Date.now() - stored >= GRACE_S * 1000, 'not before the grace');
    t.ok((await bytesOn(s3.address, 'late'))?.equals(orphan), 'the chunk a file took in time is kept');
    await waitAtFactor(h.master.port, '/late', new Map([['late', orphan]]), 3);
  });

  t.test('delete_file: gone from the namespace at once, space freed on every holder', async (t) => {
    const chunks = new Map<string, Buffer>();
    for (let i = 0; i < 3; i++) {
      const data = bytes(400_000, 40 + i);
      chunks.set(`del-${i}`, data);
      t.match(await call(s1.port, { command: 'store_chunk', chunk_id: `del-${i}`, file_path: '/del', chunk_index: i, data }), { status: 'ok' });
    }
    const held = await waitAtFactor(h.master.port, '/del', chunks, 3);
    const holders = new Set([...held.values()].flatMap((w) => w.slice(0, 3)));
    await waitFor('space reported', async () => ((await usedOn(s1.address)) >= 1_200_000 ? true : undefined), 30_000, 100);
    const before = new Map<string, number>();
    for (const a of holders) before.set(a, await usedOn(a));

    t.same(await call(h.master.port, { command: 'delete_file', file_path: '/del' }), { status: 'ok' });
    t.equal(await fileMetadata(h.master.port, '/del'), null, 'no metadata right after the reply');
    t.notOk(((await call(h.master.port, { command: 'list_files' })).files as string[]).includes('/del'));
    t.same(await call(h.master.port, { command: 'delete_file', file_path: '/del' }), { status: 'error', message: 'file_not_found' });
    t.same(await call(h.master.port, { command: 'delete_file' }), { status: 'error', message: 'bad_request: file_path' });

    await waitFor('every copy deleted', async () => {
      for (const a of holders) for (const id of chunks.keys()) if (await bytesOn(a, id)) return undefined;
      return true;
    }, 60_000, 200);
    await waitFor('space freed on every holder', async () => {
      for (const a of holders) {
        let mine = 0;
        for (const [id, data] of chunks) if (held.get(id)!.slice(0, 3).includes(a)) mine += charge(data.length);
        if ((await usedOn(a)) > before.get(a)! - mine) return undefined;
      }
      return true;
    }, 30_000, 200);
    t.pass('freed');
  });

  t.test('a file deleted and its bytes put again at once: the new copy is not collected with the old', async (t) => {
    // Chunk ids of whole-chunk puts are content hashes: the same bytes put again reuse the id
    // the master has just judged garbage.
    const data = bytes(120_000, 80);
    t.match(await call(s2.port, { command: 'store_chunk', chunk_id: 'again', file_path: '/again', chunk_index: 0, data }), { status: 'ok' });
    await waitAtFactor(h.master.port, '/again', new Map([['again', data]]), 3);
    t.same(await call(h.master.port, { command: 'delete_file', file_path: '/again' }), { status: 'ok' });
    // The put again: its store lands now, its record only when the upload ends.
    t.match(await call(s2.port, { command: 'store_chunk', chunk_id: 'again', data, replica_servers: true }), { status: 'ok' });
    // An upload of several chunks takes a few beats before it records the file.
    await new Promise((r) => setTimeout(r, 6 * 300));
    t.ok((await bytesOn(s2.address, 'again'))?.equals(data), 'the copy stored again is still there');
    t.same(await call(h.master.port, { command: 'update_file_metadata', file_path: '/again', chunk_id: 'again', chunk_locations: [s2.address], chunk_size: data.length }), { status: 'ok' });
    await waitAtFactor(h.master.port, '/again', new Map([['again', data]]), 3);
  });

  t.test('decommission_server: everything it holds is copied first; stopped, nothing is under-replicated', async (t) => {
    const chunks = new Map<string, Buffer>();
    for (let i = 0; i < 4; i++) {
      const data = bytes(150_000, 60 + i);
      chunks.set(`dec-${i}`, data);
      t.match(await call(s1.port, { command: 'store_chunk', chunk_id: `dec-${i}`, file_path: '/dec', chunk_index: i, data }), { status: 'ok' });
    }
    await waitAtFactor(h.master.port, '/dec', chunks, 3);
    t.same(await call(h.master.port, { command: 'decommission_server', address: '127.0.0.1:1' }), { status: 'error', message: 'unknown_server' });
    t.match(await call(h.master.port, { command: 'decommission_server', address: s1.address }), { status: 'ok', state: 'decommissioning' });
    await waitFor('decommissioned', async () => {
      const row = ((await status(h.master.port)).servers as Reply[]).find((s) => s.address === s1.address)!;
      return row.state === 'decommissioning' && row.decommissioned === true ? true : undefined;
    }, 90_000, 200);
    s1.proc.kill('SIGKILL');
    await s1.exited;
    // At once, before the master even notices it is gone.
    for (const [id, data] of chunks) {
      const where = ((await call(h.master.port, { command: 'get_chunk_locations', file_path: '/dec', chunk_id: id })).locations as string[]);
      t.notOk(where.includes(s1.address), `${id}: the decommissioned server is no longer listed`);
      let good = 0;
      for (const a of where) if ((await bytesOn(a, id))?.equals(data)) good++;
      t.ok(good >= 3, `${id}: ${good} current copies elsewhere`);
    }
  });
});
