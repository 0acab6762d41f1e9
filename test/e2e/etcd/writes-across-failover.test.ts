// Issue 24's acceptance on the shape it names: three etcd members and three masters on
// 127.0.0.1, chunk servers, and our client putting and appending without pause while the
// leader is killed with SIGKILL; then the new leader is paused past its lease (SIGSTOP) and
// woken. Every put and every append acknowledged is read back whole afterwards.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { GfsClient } from '../../../src/client/index.js';
import { spawnChunk } from '../../support/cluster.js';
import { chunkToml, masterToml, writeToml } from '../../support/configs.js';
import { bytes } from '../../support/data.js';
import { startEtcd } from '../../support/etcd.js';
import { call } from '../../support/frames.js';
import { spawnMaster, type ChildServer } from '../../support/processes.js';
import { tempDir } from '../../support/temp.js';
import { waitFor, waitUntil } from '../../support/waits.js';

const PUT_BYTES = 150_000;
const APPEND_BYTES = 3000;

async function role(m: ChildServer): Promise<string | undefined> {
  const r = await call(m.port, { command: 'master_status' }).catch(() => null);
  return r?.status === 'ok' ? String(r.role) : undefined;
}

t.test('puts and appends from our client across a kill -9 of the leader of three masters over three etcd members, then a leader paused past its lease', async (t) => {
  const dir = await tempDir(t);
  const etcd = await startEtcd(t, dir, 3);
  const mconfig = await writeToml(dir, 'master.toml', masterToml({ beatS: 0.5, extra: `replication_factor = 2\netcd_endpoints = ${etcd.toml}\netcd_prefix = "/writes"\netcd_lease_ttl_s = 2\netcd_safe_mode_s = 1\n` }));
  const masters: ChildServer[] = [];
  for (const name of ['a', 'b', 'c']) masters.push(await spawnMaster(t, ['--config', mconfig, '--port', '0', '--namespace', join(dir, name), '--metadata', join(dir, `${name}.json`)], dir));
  const leader = await waitFor('a leader', async () => {
    for (const m of masters) if ((await role(m)) === 'leader') return m;
    return undefined;
  });
  const others = masters.filter((m) => m !== leader);

  const cconfig = await writeToml(dir, 'chunk.toml', chunkToml({ beatS: 0.5, extra: `other_masters = [${others.map((m) => JSON.stringify(m.address)).join(', ')}]\n` }));
  for (const id of ['s1', 's2', 's3']) {
    const cdir = join(dir, id);
    await mkdir(cdir);
    await spawnChunk(t, cdir, { id, master: leader.port, config: cconfig });
  }

  const list = masters.map((m) => m.address).join(',');
  const clients: GfsClient[] = [];
  t.teardown(() => clients.forEach((c) => c.close()));
  const puts = new Map<string, Buffer>();
  const appends: { file: string; offset: number; data: Buffer }[] = [];
  let putsAfterKill = 0;
  let killed = false;
  let running = true;
  const worker = async (k: number, kind: 'put' | 'append'): Promise<void> => {
    const c = new GfsClient({ master: list, chunkSize: 100_000 });
    clients.push(c);
    for (let i = 0; running; i++) {
      const startedAfterKill = killed;
      try {
        if (kind === 'put') {
          const data = bytes(PUT_BYTES, 1000 * k + i);
          await c.put(data, `/put/${k}/${i}`);
          puts.set(`/put/${k}/${i}`, data);
          if (startedAfterKill) putsAfterKill++;
        } else {
          const data = bytes(APPEND_BYTES, 5000 + 1000 * k + i);
          const r = await c.append(`/append/${k}`, data);
          if (r.offset !== null) appends.push({ file: `/append/${k}`, offset: r.offset, data });
        }
      } catch {
        // An outage (the election): the write was not acknowledged, so nothing is owed; try again.
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  const workers = [worker(0, 'put'), worker(1, 'put'), worker(2, 'append'), worker(3, 'append')];
  await waitUntil('puts and appends acknowledged before the kill', () => puts.size >= 3 && appends.length >= 6);

  killed = true;
  leader.proc.kill('SIGKILL');
  const second = await waitFor('a new leader', async () => {
    for (const m of others) if ((await role(m)) === 'leader') return m;
    return undefined;
  });
  await waitUntil('puts started after the kill acknowledged', () => putsAfterKill >= 3);
  running = false;
  await Promise.all(workers);
  t.comment(`${puts.size} puts and ${appends.length} appends acknowledged, ${putsAfterKill} puts after the kill`);

  // The new leader paused past its lease (SIGSTOP): the last master takes over; woken, the
  // paused one commits nothing and steps down.
  const third = others.find((m) => m !== second)!;
  second.proc.kill('SIGSTOP');
  await waitUntil('the last master to lead', async () => (await role(third)) === 'leader');
  second.proc.kill('SIGCONT');
  const late = await call(second.port, { command: 'add_file', file_path: '/late', total_size: 1, chunk_ids: [], follows_leader: true });
  t.equal(late.status, 'error', 'the paused leader, awake, does not commit');
  t.match(late.message, /^(not_leader|etcd_unavailable)$/);
  await waitUntil('the paused leader to step down', async () => (await role(second)) === 'standby');
  const after = bytes(PUT_BYTES, 99);
  // The last leader places chunks once the servers have reported to it: until then a put is refused.
  await waitUntil('a put acknowledged by the last leader', () => clients[0]!.put(after, '/after-pause').then(() => true, () => false));
  puts.set('/after-pause', after);

  const reader = new GfsClient({ master: others.map((m) => m.address).join(',') });
  t.equal((await reader.stat('/late').catch(() => null)), null, 'the paused leader\'s write is nowhere');
  clients.push(reader);
  let n = 0;
  const read = async (remote: string): Promise<Buffer> => {
    const local = join(dir, `got-${n++}`);
    // Chunk locations are rebuilt from the servers' reports after a failover: retried until they are in.
    await waitUntil(`${remote} readable`, () => reader.get(remote, local).then(() => true, () => false));
    return readFile(local);
  };
  const broken: string[] = [];
  for (const [path, data] of puts) {
    const got = await read(path);
    if (!got.equals(data)) broken.push(`${path}: ${got.length} bytes read, ${data.length} acknowledged`);
  }
  t.same(broken, [], 'every acknowledged put is read whole');
  const files = new Map<string, Buffer>();
  for (const file of new Set(appends.map((a) => a.file))) files.set(file, await read(file));
  const found = appends.filter((a) => files.get(a.file)!.subarray(a.offset, a.offset + a.data.length).equals(a.data)).length;
  t.equal(found, appends.length, 'every acknowledged append is at its offset');
});
