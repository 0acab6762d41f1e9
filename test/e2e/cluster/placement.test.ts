// Re-replication and append forwarding in a cluster with more servers than the replication
// factor, so that a right and a wrong choice of servers look different: chunks live on a
// subset, servers that could take more copies exist, and holders are counted by asking the
// live servers themselves for the bytes, never from the master's lists.
import t from 'tap';
import { spawnChunk } from '../../support/cluster.js';
import { waitForServers } from '../../support/cluster-probes.js';
import { chunkToml, masterToml, writeToml } from '../../support/configs.js';
import { bytes, MIB } from '../../support/data.js';
import { call } from '../../support/frames.js';
import { spawnMaster } from '../../support/processes.js';
import { tempDir } from '../../support/temp.js';
import { waitFor } from '../../support/waits.js';

type Server = { port: number; address: string };

const sorted = (a: string[]): string[] => [...a].sort();

t.test('more servers than the factor: repair stops at the factor, appends reach the holders and only them', async (t) => {
  const dir = await tempDir(t);
  const master = await spawnMaster(t, ['--config', await writeToml(dir, 'm.toml', masterToml({ beatS: 1, extra: 'replication_factor = 3\n' })), '--port', '0', '--metadata', 'meta.json'], dir);
  const config = await writeToml(dir, 'c.toml', chunkToml({ beatS: 1 }));
  const spawn = (id: string, spaceMb: number): Promise<Server> => spawnChunk(t, dir, { id, master: master.port, config, spaceMb });

  // s2 and s3 join first, so that the master's first picks for a new chunk are two servers
  // without room for a 1.2 MiB chunk; three servers with room join after them.
  const [s1, s2, s3] = await Promise.all([spawn('s1', 64), spawn('s2', 1), spawn('s3', 1)]);
  await waitForServers(master.port, [s1!.address, s2!.address, s3!.address]);
  const late = await Promise.all([spawn('s4', 64), spawn('s5', 64), spawn('s6', 64)]);
  const all = [s1!, s2!, s3!, ...late];
  await waitForServers(master.port, all.map((s) => s.address));

  /** The servers that answer `id` with exactly `want`; any other answer than chunk_not_found is a failure. */
  const holders = async (servers: Server[], id: string, want: Buffer): Promise<string[]> => {
    const out: string[] = [];
    for (const s of servers) {
      const r = await call(s.port, { command: 'retrieve_chunk', chunk_id: id });
      if (r.status === 'ok' && Buffer.compare(r.data, want) === 0) out.push(s.address);
      else if (r.message !== 'chunk_not_found') throw new Error(`${s.address} answers ${id} with ${r.status} ${r.message ?? `${r.data?.length} other bytes`}`);
    }
    return out;
  };

  // Stored by the primary; the copies go wherever the master points (more copies than
  // missing could be made: three servers have room for two missing copies).
  const a = bytes(1.2 * MIB, 11);
  t.match(await call(s1!.port, { command: 'store_chunk', chunk_id: 'A', file_path: '/a', chunk_index: 0, data: a }), { status: 'ok', chunk_id: 'A' });
  await waitFor('A held by three servers', async () => ((await holders(all, 'A', a)).length >= 3 ? true : undefined), 60_000);

  // A second chunk stored only now: once it is on three servers, whatever copying of A was
  // under way when A reached three has run to its end too.
  const b = bytes(1.2 * MIB, 12);
  t.match(await call(s1!.port, { command: 'store_chunk', chunk_id: 'B', file_path: '/b', chunk_index: 0, data: b }), { status: 'ok', chunk_id: 'B' });
  await waitFor('B held by three servers', async () => ((await holders(all, 'B', b)).length >= 3 ? true : undefined), 60_000);

  const aHolders = await holders(all, 'A', a);
  t.equal(aHolders.length, 3, `A on exactly replication_factor servers, not more: ${aHolders.join(' ')}`);
  t.ok(aHolders.includes(s1!.address), 'the primary kept its copy');
  t.notOk(aHolders.includes(s2!.address) || aHolders.includes(s3!.address), 'not on the servers without room');
  const listed = (await call(master.port, { command: 'get_chunk_locations', file_path: '/a', chunk_id: 'A' })).locations as string[];
  t.same(sorted([...new Set(listed)]), sorted(aHolders), 'the master lists exactly the servers that hold A');

  // An append through the primary goes to the other two holders of A, and to no server that
  // lacks A: one that never had it would otherwise create A holding only the appended bytes.
  const more = bytes(5000, 13);
  t.same(await call(s1!.port, { command: 'append_chunk', chunk_id: 'A', data: more, offset: a.length, file_path: '/a' }), { status: 'ok', new_offset: a.length + more.length, version: 2 });
  const appended = Buffer.concat([a, more]);
  const after = await holders(all, 'A', appended);
  t.same(sorted(after), sorted(aHolders), 'every holder of A, and no other server, has A with the appended bytes');
});
