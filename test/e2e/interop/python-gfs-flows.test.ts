// The reference GFSClient's flows (test/support/python/gfs_flows.py, framed by
// protocol/python/gfs_msgpack.py) against a real master and real chunk servers, all child
// processes; what the client reports is checked against the servers' files, their
// transaction logs and the master's metadata.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { charge } from '../../../src/storage/index.js';
import { spawnChunk } from '../../support/cluster.js';
import { fileMetadata, waitForServers } from '../../support/cluster-probes.js';
import { chunkToml, masterToml, writeToml } from '../../support/configs.js';
import { certFiles, makeCerts, tlsToml } from '../../support/certs.js';
import { Client, type Reply } from '../../support/frames.js';
import { spawnMaster } from '../../support/processes.js';
import { runPython } from '../../support/python.js';
import { tempDir } from '../../support/temp.js';
import { waitUntil } from '../../support/waits.js';
import { chunkFile } from '../../support/chunk-files.js';

const CHUNK = 300_000;
// Heartbeats every second: short enough for a fast start, and a server is dropped only
// after 2 s of silence, which a loaded machine running the whole suite does not reach.
const BEAT_S = 1;
const MIB = 1024 * 1024;

/** Size of a chunk file on a server, or null when it holds none. */
async function sizeOn(dir: string, id: string, chunkId: string): Promise<number | null> {
  try {
    return (await stat(chunkFile(join(dir, 'data', id), chunkId))).size;
  } catch {
    return null;
  }
}

/** Files of prepared transactions still on a server. */
async function preparedFiles(dir: string, id: string): Promise<string[]> {
  try {
    return await readdir(join(dir, 'data', id, '.prepared'));
  } catch {
    return [];
  }
}

/** The transaction log lines of one transaction, as `EVENT` or `EVENT:reason`. */
async function txEvents(dir: string, transactionId: string): Promise<string[]> {
  const text = await readFile(join(dir, 'data', 'transactions.log'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.transaction_id === transactionId)
    .map((l) => (l.reason ? `${l.msg}:${l.reason}` : String(l.msg)));
}

t.test('upload, download, two-phase append with rollback, and a replicate_chunk chain from Python through a real cluster', (t) => playFlows(t, 'plain'));

t.test('the same flows through a cluster with client_auth = "writes", the client signing through the one-file switch', (t) => playFlows(t, 'auth'));

t.test('the same flows through a cluster with tls = "all", the client speaking TLS through the one-file switch', (t) => playFlows(t, 'tls'));

/** Key files for a secured cluster in `base`: its [security] section and the client's environment. */
async function secure(base: string): Promise<{ toml: string; env: Record<string, string> }> {
  await writeFile(join(base, 'cluster.key'), `${randomBytes(32).toString('hex')}\n`);
  await mkdir(join(base, 'clients'));
  await writeFile(join(base, 'clients', 'flows.key'), `${randomBytes(32).toString('hex')}\n`);
  return {
    toml: `[security]\ncluster_key_file = "${join(base, 'cluster.key')}"\nclient_auth = "writes"\nclient_keys_dir = "${join(base, 'clients')}"\n`,
    env: { GFS_KEY_FILE: join(base, 'clients', 'flows.key'), GFS_FLOWS_MEMBER_KEY_FILE: join(base, 'cluster.key') },
  };
}

/**
 * Certificates for a cluster under tls = "all": the master's, one the chunk servers share,
 * and the flows' own, a member's (its filler is a replica store, for members only).
 */
async function tlsFiles(base: string): Promise<{ master: string; chunk: string; env: Record<string, string> }> {
  const dir = join(base, 'certs');
  const names = ['master', 'chunk', 'flows'];
  await makeCerts(dir, names);
  const flows = certFiles(dir, 'flows');
  return {
    master: tlsToml('all', certFiles(dir, 'master'), names),
    chunk: tlsToml('all', certFiles(dir, 'chunk'), names),
    env: { GFS_TLS_CA: flows.ca, GFS_TLS_CERT: flows.cert, GFS_TLS_KEY: flows.key },
  };
}

async function playFlows(t: Test, mode: 'plain' | 'auth' | 'tls'): Promise<void> {
  const base = await tempDir(t);
  const secured = mode === 'auth';
  const security = secured ? await secure(base) : { toml: '', env: {} };
  const tls = mode === 'tls' ? await tlsFiles(base) : { master: '', chunk: '', env: {} };
  const env = { ...security.env, ...tls.env };
  const master = await spawnMaster(t, ['--config', await writeToml(base, 'm.toml', masterToml({ beatS: BEAT_S }) + security.toml + tls.master), '--port', '0', '--metadata', 'meta.json'], base);
  const config = await writeToml(base, 'c.toml', chunkToml({ beatS: BEAT_S }) + security.toml + tls.chunk);
  // The client sits at (0, 0): `near` is its first choice and has room for three chunks
  // only, so the client falls back to `mid`; every server has its own data directory.
  const specs = [
    { id: 'near', x: 1, y: 1, spaceMb: 1 },
    { id: 'mid', x: 5, y: 5, spaceMb: 2 },
    { id: 'far', x: 60, y: 60, spaceMb: 2 },
  ];
  const dirs = await Promise.all(specs.map(() => tempDir(t)));
  const servers = await Promise.all(specs.map((s, i) => spawnChunk(t, dirs[i]!, { ...s, master: master.port, config })));
  const [near, mid, far] = servers.map((s) => s.address);
  const dirOf = (address: string): [string, string] => {
    const i = servers.findIndex((s) => s.address === address);
    return [dirs[i]!, specs[i]!.id];
  };
  if (mode === 'tls') await waitUntil('the servers register over TLS', () => servers.every((s) => master.stdout().includes(`"address":"${s.address}"`)));
  else await waitForServers(master.port, servers.map((s) => s.address));
  // Under tls = "all" the test's own look at the master goes over TLS too.
  const metadataOf = async (path: string): Promise<Reply | null> => {
    if (mode !== 'tls') return fileMetadata(master.port, path);
    const c = await Client.connectTls(master.port, { ca: await readFile(env.GFS_TLS_CA!) }, t);
    c.send({ command: 'get_file_metadata', file_path: path });
    const r = await c.next();
    c.socket.destroy();
    return (r?.metadata as Reply | undefined) ?? null;
  };

  const run = await runPython('test/support/python/gfs_flows.py', [String(master.port)], 60_000, env);
  t.equal(run.code, 0, 'the flows pass', { stderr: run.stderr.slice(-4000) });
  if (run.code !== 0) return;
  const out = JSON.parse(run.stdout.trim().split('\n').pop()!) as Record<string, any>;
  const { upload, append, chain } = out;
  if (secured) t.notMatch(master.stdout() + servers.map((s) => s.stdout()).join(''), /request refused: authentication/, 'nothing was refused');
  if (mode === 'tls') t.notMatch(master.stdout() + servers.map((s) => s.stdout()).join(''), /request refused|plain TCP refused|TLS peer refused|TLS handshake failed/, 'all of it over TLS, nothing refused');

  t.test('upload with fallback on insufficient_space, download byte-exact', async (t) => {
    t.same(upload.primaries, [near, near, near, mid, mid], 'near takes three chunks, then mid');
    t.same(
      upload.fallbacks.map((f: Record<string, unknown>) => [f.chunk_index, f.server, f.available_space]),
      [3, 4].map((i) => [i, near, MIB - 3 * charge(CHUNK)]),
      'near refused the last two chunks with its free space',
    );
    t.equal(upload.total_size, 4 * CHUNK + 200_000);
    const ids: string[] = upload.chunk_ids;
    t.equal(ids.length, 5);
    for (const [i, id] of ids.entries()) {
      const holders = i < 3 ? [near, mid, far] : [mid, far];
      t.same([...upload.chunk_locations[id]].sort(), [...holders].sort(), `chunk ${i}: locations`);
      // Every chunk now has CHUNK bytes: the last one has grown by the appends since.
      for (const s of [near, mid, far]) t.equal(await sizeOn(...dirOf(s), id), holders.includes(s) ? CHUNK : null, `chunk ${i} on ${dirOf(s)[1]}`);
    }
  });

  t.test('append: prepare, commit and update_chunk_offset; a refused prepare rolls back', async (t) => {
    t.equal(append.chunk_id, upload.chunk_ids[4], 'the last chunk is appended to');
    t.same(append.locations, [mid, far], 'primary first');
    t.equal(append.refused_by, far);
    t.same(append.prepared_then_rolled_back, [mid]);
    t.equal(append.chunk_size, CHUNK);

    for (const s of [mid, far]) {
      const [dir, id] = dirOf(s);
      t.same(await txEvents(dir, append.committed), ['START', 'PREPARE', 'COMMIT'], `${id}: first append committed`);
      t.same(await txEvents(dir, append.retried), ['START', 'PREPARE', 'COMMIT'], `${id}: retry committed`);
      t.same(await preparedFiles(dir, id), [], `${id}: no prepared transaction left`);
      t.equal(await sizeOn(dir, id, append.filler), null, `${id}: no filler left`);
    }
    t.same(await txEvents(dirOf(mid)[0], append.rolled_back), ['START', 'PREPARE', 'ROLLBACK:client'], 'mid prepared, then the client rolled back');
    t.same(await txEvents(dirOf(far)[0], append.rolled_back), ['START', 'ROLLBACK:prepare_failed'], 'far refused the prepare');
    t.equal(await sizeOn(...dirOf(near), append.chunk_id), null, 'near never held the chunk');

    const a = await readFile(join(dirOf(mid)[0], 'data', 'mid', append.chunk_id));
    const b = await readFile(join(dirOf(far)[0], 'data', 'far', append.chunk_id));
    t.ok(a.equals(b), 'both copies hold the same bytes');

    const meta = await metadataOf('/flows/gfs.bin');
    t.equal(meta?.chunk_offsets[append.chunk_id], CHUNK, 'the master took the new offset');
    t.equal(meta?.last_chunk_id, append.chunk_id);
    t.equal(meta?.last_chunk_offset, CHUNK);
    t.equal(meta?.total_size, append.total_size);
    t.equal(append.total_size, 5 * CHUNK);
  });

  t.test('replicate_chunk chain: whole, then broken at a dead last link', async (t) => {
    t.same(chain.chain, [near, mid, far]);
    for (const s of [near, mid, far]) t.equal(await sizeOn(...dirOf(s), chain.whole), 20_000, `${dirOf(s)[1]} holds the chained chunk`);
    t.equal(chain.failure, `replication_failed: ${chain.broken_chain[2]}`);
    t.same(chain.broken_chain.slice(0, 2), [near, mid]);
    for (const s of [near, mid]) t.equal(await sizeOn(...dirOf(s), chain.broken), 20_000, `${dirOf(s)[1]} stored before the dead link`);
    t.equal(await sizeOn(...dirOf(far), chain.broken), null, 'far was not in the broken chain');
    const files = await metadataOf('/flows/chain.bin');
    t.equal(files, null, 'replicate_chunk reports nothing to the master');
  });
}
