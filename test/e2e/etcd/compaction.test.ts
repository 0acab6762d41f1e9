// The journal in etcd is compacted behind snapshots (real etcd, real masters): the leader
// writes a snapshot in parts after etcd_snapshot_entries entries and deletes the entries it
// covers; a standby paused across a compaction reloads from the snapshot; a fresh master
// (empty namespace directory) loads it and tails the rest, and serves every file on failover.
import { Etcd3 } from 'etcd3';
import t from 'tap';
import { leaderOf, startEtcdMasters } from '../../support/etcd-cluster.js';
import { call } from '../../support/frames.js';
import type { ChildServer } from '../../support/processes.js';
import { waitFor, waitUntil } from '../../support/waits.js';

const EVERY = 20;
// Each file lists this many chunks: ~4 KiB of JSON, so a snapshot of 300 takes several 512 KiB parts.
const CHUNKS_PER_FILE = 30;

const asClient = (req: object): object => ({ ...req, follows_leader: true });
const chunkIds = (i: number): string[] => Array.from({ length: CHUNKS_PER_FILE }, (_, j) => `${String(i).padStart(8, '0')}${String(j).padStart(56, '0')}`);

async function files(m: ChildServer): Promise<string[]> {
  return ((await call(m.port, asClient({ command: 'list_files' }))).files as string[]).sort();
}

/** add_file on whichever master leads, retried across a change of leader; resolves with the path. */
async function addFile(masters: ChildServer[], path: string, i: number): Promise<string> {
  return waitFor(`${path} acknowledged`, async () => {
    const r = await call((await leaderOf(masters)).port, asClient({ command: 'add_file', file_path: path, total_size: i, chunk_ids: chunkIds(i) })).catch(() => null);
    return r?.status === 'ok' ? path : undefined;
  });
}

async function addFiles(masters: ChildServer[], from: number, to: number): Promise<string[]> {
  const out: string[] = [];
  // Four at a time: entries come one or a few changes each, so compaction is due many times.
  for (let i = from; i < to; i += 4) out.push(...(await Promise.all([i, i + 1, i + 2, i + 3].filter((k) => k < to).map((k) => addFile(masters, `/c/f${k}`, k)))));
  return out;
}

t.test('snapshots compact the journal; standbys and a fresh master catch up through them', async (t) => {
  const c = await startEtcdMasters(t, { masters: 2, master: `etcd_snapshot_entries = ${EVERY}\n` });
  const probe = new Etcd3({ hosts: c.etcd.endpoints });
  t.teardown(() => probe.close());
  const first = await leaderOf(c.masters);
  const standby = c.masters.find((m) => m !== first)!;
  await waitUntil('the standby to know the leader', async () => (await call(standby.port, asClient({ command: 'list_files' })).catch(() => null))?.leader === first.address);

  // Paused, the standby cannot tail: it wakes behind entries compacted meanwhile.
  standby.proc.kill('SIGSTOP');
  const acked = await addFiles([first], 0, 300);
  const head = await waitFor('a snapshot past the first entries', async () => {
    const raw = await probe.get('/ops/snapshot').string();
    const h = raw === null ? null : (JSON.parse(raw) as { seq: number; parts: number });
    return h !== null && h.seq > EVERY ? h : undefined;
  });
  const journal = (await probe.getAll().prefix('/ops/journal/').keys()).map((k) => Number(k.slice('/ops/journal/'.length)));
  t.ok(journal.every((seq) => seq > head.seq), `no journal entry at or before the snapshot (${head.seq}) is left (${journal.length} left)`);
  t.ok(journal.length < 300 / 4, 'the journal holds less than all the entries written');
  t.ok(head.parts >= 2, `the snapshot is cut into parts (${head.parts})`);
  const parts = await probe.getAll().prefix('/ops/snapshots/').buffers();
  t.ok(Object.values(parts).every((v) => v.length < 1024 * 1024), 'each part stays well under etcd\'s 1.5 MiB request limit');
  t.equal(Object.keys(parts).length, head.parts, 'only the named snapshot\'s parts are kept');

  standby.proc.kill('SIGCONT');
  await waitUntil('the woken standby to load the snapshot', () => /loaded the namespace snapshot from etcd/.test(standby.stdout()));
  first.proc.kill('SIGKILL');
  const second = await leaderOf([standby]);
  t.same(await files(second), acked.sort(), 'the standby that slept across a compaction has every file');
  t.same((await call(second.port, asClient({ command: 'get_file_metadata', file_path: '/c/f123' }))).metadata?.chunk_ids, chunkIds(123), 'with its chunks');

  // The new leader writes and compacts in its own term; a master with an empty directory joins.
  acked.push(...(await addFiles([second], 300, 360)));
  await call(second.port, asClient({ command: 'rename_file', file_path: '/c/f1', new_path: '/c/renamed' }));
  await call(second.port, asClient({ command: 'delete_file', file_path: '/c/f2' }));
  const want = acked.filter((p) => p !== '/c/f1' && p !== '/c/f2').concat('/c/renamed').sort();
  await waitUntil('the new leader compacts too', async () => JSON.parse((await probe.get('/ops/snapshot').string()) ?? '{"seq":0}').seq > head.seq);
  const fresh = await c.startMaster('fresh');
  await waitUntil('the fresh master to load the snapshot', () => /loaded the namespace snapshot from etcd/.test(fresh.stdout()));
  second.proc.kill('SIGKILL');
  const third = await leaderOf([fresh]);
  t.same(await files(third), want, 'a fresh master, failed over to, has every file');
  t.equal((await call(third.port, asClient({ command: 'get_file_metadata', file_path: '/c/f350' }))).metadata?.total_size, 350);
});
