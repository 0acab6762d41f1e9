// Chunk servers and the client library follow the leader of several masters over etcd:
// pointed at a standby they are sent to the leader, and after the leader's kill -9 they
// find the new one.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { GfsClient } from '../../../src/client/index.js';
import { spawnChunk } from '../../support/cluster.js';
import { chunkToml, masterToml, writeToml } from '../../support/configs.js';
import { bytes } from '../../support/data.js';
import { startEtcd } from '../../support/etcd.js';
import { call } from '../../support/frames.js';
import { runGfs, spawnMaster, type ChildServer } from '../../support/processes.js';
import { tempDir } from '../../support/temp.js';
import { waitFor, waitUntil } from '../../support/waits.js';

// Marked as following not_leader, as our client is: a standby answers it so rather than proxy it.
async function serves(m: ChildServer): Promise<boolean> {
  return (await call(m.port, { command: 'list_files', follows_leader: true }).catch(() => null))?.status === 'ok';
}

async function knowsServer(m: ChildServer, address: string): Promise<boolean> {
  const r = await call(m.port, { command: 'get_chunk_servers', follows_leader: true }).catch(() => null);
  return Array.isArray(r?.servers) && (r.servers as string[]).includes(address);
}

t.test('a chunk server and a client pointed at a standby follow the leader across a failover', async (t) => {
  const dir = await tempDir(t);
  const etcd = await startEtcd(t, dir);
  const mconfig = await writeToml(dir, 'master.toml', masterToml({ beatS: 0.5, extra: `replication_factor = 1\netcd_endpoints = ${etcd.toml}\netcd_prefix = "/follow"\netcd_lease_ttl_s = 2\netcd_safe_mode_s = 1\n` }));
  const start = (name: string) => spawnMaster(t, ['--config', mconfig, '--port', '0', '--namespace', join(dir, name), '--metadata', join(dir, `${name}.json`)], dir);
  const a = await start('a');
  const b = await start('b');
  const leader = await waitFor('a leader', async () => ((await serves(a)) ? a : (await serves(b)) ? b : undefined));
  const standby = leader === a ? b : a;

  const cdir = join(dir, 's1');
  await mkdir(cdir);
  const cconfig = await writeToml(dir, 'chunk.toml', chunkToml({ beatS: 0.5, extra: `other_masters = ["${leader.address}"]\n` }));
  const server = await spawnChunk(t, cdir, { id: 's1', master: standby.port, config: cconfig });
  await waitUntil('the chunk server registered with the leader, though pointed at the standby', () => knowsServer(leader, server.address));

  const client = new GfsClient({ master: `${standby.address},${leader.address}`, chunkSize: 100_000 });
  t.teardown(() => client.close());
  let n = 0;
  const read = async (remote: string): Promise<Buffer> => {
    const local = join(dir, `got-${n++}`);
    await client.get(remote, local);
    return readFile(local);
  };
  const before = bytes(250_000, 3);
  await client.put(before, '/before.bin');
  t.same(await read('/before.bin'), before, 'a client given the standby first writes and reads through the leader');
  // One chunk: create_file and the primary's report go through the etcd journal as any change.
  const small = bytes(4096, 5);
  await client.put(small, '/small.bin');
  t.same(await read('/small.bin'), small, 'a small file in two round trips');

  const roles = (await client.masters()).map((m) => [m.address, m.role, m.leader]);
  t.same(roles, [[standby.address, 'standby', leader.address], [leader.address, 'leader', leader.address]], 'master_status: each master says its role and the leader');

  leader.proc.kill('SIGKILL');
  await waitUntil('the standby to take over', () => serves(standby));
  await waitUntil('the chunk server to find the new leader', () => knowsServer(standby, server.address));
  const after = bytes(150_000, 4);
  await client.put(after, '/after.bin');
  t.same(await read('/after.bin'), after, 'the client finds the new leader');
  t.same(await read('/before.bin'), before, 'what was written before the failover is read after it');
  t.same(await read('/small.bin'), small, 'the small file too');

  const shown = await runGfs(['--master', `${standby.address},${leader.address}`, '--json', 'masters'], { cwd: dir });
  t.equal(shown.code, 0);
  t.same(
    (JSON.parse(shown.stdout.toString()) as { masters: { address: string; role: string }[] }).masters.map((m) => [m.address, m.role]),
    [[standby.address, 'leader'], [leader.address, 'unreachable']],
    'gfs masters after the failover',
  );
});
