// The unchanged reference GFSClient (test/support/python/gfs_interop.py) pointed at a standby
// of two masters over a real etcd: the standby proxies its requests to the leader, so it
// uploads, appends and downloads; after kill -9 of the leader, pointed at the survivor (the
// new leader), it reads every file that was acknowledged. Our client's marker still gets
// not_leader, and a member's command is never proxied.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { spawnChunk } from '../../support/cluster.js';
import { chunkToml, freePort, masterToml, writeToml } from '../../support/configs.js';
import { bytes } from '../../support/data.js';
import { startEtcd } from '../../support/etcd.js';
import { call } from '../../support/frames.js';
import { http } from '../../support/http.js';
import { spawnMaster, type ChildServer } from '../../support/processes.js';
import { runPython } from '../../support/python.js';
import { tempDir } from '../../support/temp.js';
import { waitFor, waitUntil } from '../../support/waits.js';

const REFERENCE_CHUNK = 300_000;

// Marked as following not_leader, as our client is: a standby answers it so rather than proxy it.
async function serves(m: ChildServer): Promise<boolean> {
  return (await call(m.port, { command: 'list_files', follows_leader: true }).catch(() => null))?.status === 'ok';
}

async function knowsServers(m: ChildServer, addresses: string[]): Promise<boolean> {
  const r = await call(m.port, { command: 'get_chunk_servers', follows_leader: true }).catch(() => null);
  return Array.isArray(r?.servers) && addresses.every((a) => (r.servers as string[]).includes(a));
}

t.test('the reference client pointed at a standby works through its proxy, and after a failover reads every acknowledged file', async (t) => {
  const dir = await tempDir(t);
  const etcd = await startEtcd(t, dir);
  const mconfig = await writeToml(dir, 'master.toml', masterToml({ beatS: 0.5, extra: `replication_factor = 2\netcd_endpoints = ${etcd.toml}\netcd_prefix = "/proxy"\netcd_lease_ttl_s = 3\netcd_safe_mode_s = 1\n` }));
  const web = new Map<string, number>();
  const start = async (name: string) => {
    const httpPort = await freePort();
    const m = await spawnMaster(t, ['--config', mconfig, '--port', '0', '--namespace', join(dir, name), '--metadata', join(dir, `${name}.json`), '--http_port', String(httpPort)], dir);
    web.set(m.address, httpPort);
    return m;
  };
  // The console's state names this master's role and the leader it knows (master_status).
  const shown = async (m: ChildServer) => {
    const s = (await http(web.get(m.address)!, 'GET', '/api/state')).json() as Record<string, unknown>;
    return { role: s.role, leader: s.leader, leading: typeof s.leader_since === 'number' };
  };
  const a = await start('a');
  const b = await start('b');
  const leader = await waitFor('a leader', async () => ((await serves(a)) ? a : (await serves(b)) ? b : undefined));
  const standby = leader === a ? b : a;
  await waitUntil('the standby to know the leader', async () => (await call(standby.port, { command: 'add_file', file_path: '/x', total_size: 0, chunk_ids: [], follows_leader: true })).leader === leader.address);

  t.same(await shown(leader), { role: 'leader', leader: leader.address, leading: true }, 'the leader\'s console says it leads');
  t.same(await shown(standby), { role: 'standby', leader: leader.address, leading: false }, 'a standby\'s console names the leader');

  const servers = await Promise.all(
    ['s1', 's2'].map(async (id, i) => {
      const cdir = join(dir, id);
      await mkdir(cdir);
      const cconfig = await writeToml(cdir, 'chunk.toml', chunkToml({ beatS: 0.5, extra: `other_masters = ["${standby.address}"]\n` }));
      return spawnChunk(t, cdir, { id, master: leader.port, config: cconfig, x: 1 + i, y: 1 });
    }),
  );
  const addresses = servers.map((s) => s.address);
  await waitUntil('both chunk servers registered with the leader', () => knowsServers(leader, addresses));

  t.match(await call(standby.port, { command: 'list_files', follows_leader: true }), { status: 'error', message: 'not_leader', leader: leader.address }, 'a request marked follows_leader is answered not_leader');
  t.match(await call(standby.port, { command: 'heartbeat', address: '127.0.0.1:1', location: [0, 0], space_info: { total: 1, used: 0 } }), { status: 'error', message: 'not_leader', leader: leader.address }, 'a member-only command is not proxied');
  t.same(await call(standby.port, { command: 'list_files' }), await call(leader.port, { command: 'list_files' }), 'an unmarked request is answered with the leader\'s reply');

  // Uploaded and appended to through the standby, then read back through it.
  const acked: { path: string; data: Buffer }[] = [];
  for (let i = 0; i < 2; i++) {
    const first = bytes(2 * REFERENCE_CHUNK + 50_000 + i, 30 + i);
    const appended = bytes(20_000, 40 + i);
    await writeFile(join(dir, `first${i}`), first);
    await writeFile(join(dir, `appended${i}`), appended);
    const path = `/proxied-${i}.bin`;
    const up = await runPython('test/support/python/gfs_interop.py', [String(standby.port), 'upload', path, join(dir, `first${i}`), join(dir, `appended${i}`)], 60_000);
    t.equal(up.code, 0, `upload and append of ${path} through the standby: ${up.stderr.slice(-3000)}`);
    acked.push({ path, data: Buffer.concat([first, appended]) });
  }
  const down = await runPython('test/support/python/gfs_interop.py', [String(standby.port), 'download', acked[0]!.path, join(dir, 'via-standby')], 60_000);
  t.equal(down.code, 0, down.stderr.slice(-3000));
  t.ok((await readFile(join(dir, 'via-standby'))).equals(acked[0]!.data), 'the reference client read through the standby what it wrote');

  const metrics = (await http(web.get(standby.address)!, 'GET', '/metrics')).body.toString();
  const relayed = Number(/master_proxied_requests_total\{outcome="relayed"\} (\d+)/.exec(metrics)?.[1]);
  t.ok(relayed >= 10, `the standby counts what it relayed (${relayed})`);
  t.match(metrics, /master_proxied_requests_total\{outcome="failed"\} 0\n/, 'and nothing failed');

  leader.proc.kill('SIGKILL');
  await waitUntil('the standby to take over', () => serves(standby));
  await waitUntil('the chunk servers to report to the new leader', () => knowsServers(standby, addresses));
  t.same(await shown(standby), { role: 'leader', leader: standby.address, leading: true }, 'the new leader\'s console says it leads');
  for (const { path, data } of acked) {
    const out = join(dir, `after-${path.slice(1)}`);
    // Chunk locations are rebuilt from reports after the failover: poll until they are in.
    await waitUntil(`the reference client to read ${path} from the new leader`, async () => (await runPython('test/support/python/gfs_interop.py', [String(standby.port), 'download', path, out], 60_000)).code === 0);
    t.ok((await readFile(out)).equals(data), `${path}, acknowledged before the kill -9, is read whole from the new leader`);
  }
});
