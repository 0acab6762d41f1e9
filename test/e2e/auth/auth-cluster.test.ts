// Authentication on real processes: a master and two chunk servers sharing a cluster key,
// client_auth = "writes", per-client key files. Every forgery is refused with its documented
// message and leaves no trace; signed clients and the members' own traffic work.
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { signedFrame } from '../../../src/auth/signer.js';
import { spawnChunk } from '../../support/cluster.js';
import { fileMetadata, waitForServers } from '../../support/cluster-probes.js';
import { chunkToml, masterToml, writeToml } from '../../support/configs.js';
import { call, Client, frame, type Reply } from '../../support/frames.js';
import { spawnMaster } from '../../support/processes.js';
import { tempDir } from '../../support/temp.js';
import { waitFor, logged } from '../../support/waits.js';

const CLUSTER_KEY = randomBytes(32).toString('hex');
const ALICE_KEY = randomBytes(32).toString('hex');

/** One signed frame, as bytes (large payloads come as pieces that hash as they are written). */
async function signed(obj: Record<string, unknown>, id: string, key: string, nowMs?: number): Promise<Buffer> {
  const out: Buffer[] = [];
  for (const piece of signedFrame(obj, { id, key: Buffer.from(key) }, nowMs)) {
    if (Buffer.isBuffer(piece)) out.push(piece);
    else await piece.pipe(async (block) => void out.push(Buffer.from(block)));
  }
  return Buffer.concat(out);
}

async function send(port: number, frameBytes: Buffer | Promise<Buffer>): Promise<Reply> {
  const bytes = await frameBytes;
  const c = await Client.connect(port);
  try {
    c.write(bytes);
    const r = await c.next();
    if (r === null) throw new Error('closed without a reply');
    return r;
  } finally {
    c.close();
  }
}

t.test('a secured cluster refuses every forgery and serves its members and signed clients', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'cluster.key'), `${CLUSTER_KEY}\n`);
  await mkdir(join(dir, 'clients'));
  await writeFile(join(dir, 'clients', 'alice.key'), `${ALICE_KEY}\n`);
  const security = `[security]\ncluster_key_file = "cluster.key"\nclient_auth = "writes"\nclient_keys_dir = "clients"\n`;
  const config = await writeToml(dir, 'c.toml', `${masterToml()}replication_factor = 2\n${chunkToml()}${security}`);
  const master = await spawnMaster(t, ['--config', config, '--port', '0', '--metadata', 'meta.json'], dir);
  const a = await spawnChunk(t, dir, { id: 'a', master: master.port, config, x: 1, y: 1 });
  const b = await spawnChunk(t, dir, { id: 'b', master: master.port, config, x: 2, y: 2 });
  // Registration and heartbeats are signed by the members: the master lists both.
  await waitForServers(master.port, [a.address, b.address]);

  await t.test('a signed client stores as primary; the replica store and the report are signed by members', async (t) => {
    const data = randomBytes(100_000);
    const r = await send(a.port, signed({ command: 'store_chunk', chunk_id: 'c1', file_path: '/f', chunk_index: 0, data }, 'alice', ALICE_KEY));
    t.same(r, { status: 'ok', chunk_id: 'c1', replicas: 1, version: 1 });
    const got = await call(b.port, { command: 'retrieve_chunk', chunk_id: 'c1' });
    t.ok(Buffer.from(got.data).equals(data), 'the replica holds the bytes');
    const meta = await fileMetadata(master.port, '/f');
    t.same([...(meta!.chunk_locations.c1 as string[])].sort(), [a.address, b.address].sort());
    // A large store arrives streamed to a temp file; the primary forwards it from there, signing as it reads.
    const big = randomBytes(3 * 1024 * 1024);
    t.same(await send(a.port, signed({ command: 'store_chunk', chunk_id: 'big', file_path: '/big', chunk_index: 0, data: big }, 'alice', ALICE_KEY)), { status: 'ok', chunk_id: 'big', replicas: 1, version: 1 });
    t.ok(Buffer.from((await call(b.port, { command: 'retrieve_chunk', chunk_id: 'big' })).data).equals(big), 'the streamed replica holds the bytes');
  });

  await t.test('a forged heartbeat is refused and changes nothing', async (t) => {
    for (const beat of [
      frame({ command: 'heartbeat', address: a.address, location: [1, 1], space_info: { total: 1, used: 0 }, corrupt_chunks: ['c1'] }),
      signed({ command: 'heartbeat', address: a.address, location: [1, 1], space_info: { total: 1, used: 0 }, corrupt_chunks: ['c1'] }, 'alice', ALICE_KEY),
    ]) {
      t.same(await send(master.port, beat), { status: 'error', message: 'member_required' });
    }
    // A member's proof names its sender: one member cannot beat for another.
    const asB = signed({ command: 'heartbeat', address: a.address, location: [1, 1], space_info: { total: 1, used: 0 }, corrupt_chunks: ['c1'] }, `member:${b.address}`, CLUSTER_KEY);
    t.same(await send(master.port, asB), { status: 'error', message: 'auth_failed: sender_mismatch' });
    const meta = await fileMetadata(master.port, '/f');
    t.equal((meta!.chunk_locations.c1 as string[]).length, 2, 'no location was dropped');
    t.ok(await logged(() => master.stdout(), /request refused: authentication/), 'request refused: authentication');
  });

  await t.test('a fake registration is refused', async (t) => {
    const fake = { command: 'register_chunk_server', address: '127.0.0.1:1', location: [0, 0] };
    t.same(await send(master.port, frame(fake)), { status: 'error', message: 'member_required' });
    t.same(await send(master.port, signed(fake, 'member:127.0.0.1:1', randomBytes(32).toString('hex'))), { status: 'error', message: 'auth_failed: bad_signature' });
    await waitForServers(master.port, [a.address, b.address]);
  });

  await t.test('a replica store from a non-member is refused and stores nothing', async (t) => {
    const store = { command: 'store_chunk', chunk_id: 'evil', data: Buffer.from('x'), replica_servers: true };
    t.same(await send(b.port, frame(store)), { status: 'error', message: 'member_required' });
    t.same(await send(b.port, signed(store, 'alice', ALICE_KEY)), { status: 'error', message: 'member_required' });
    const hop = { command: 'replicate_chunk', chunk_id: 'evil', data: Buffer.from('x'), replica_servers: [a.address, b.address], current_replica: 1 };
    t.same(await send(b.port, frame(hop)), { status: 'error', message: 'member_required' });
    t.same(await call(b.port, { command: 'retrieve_chunk', chunk_id: 'evil' }), { status: 'error', message: 'chunk_not_found' });
  });

  await t.test('clients with no key, a wrong key, an expired or a replayed request are refused', async (t) => {
    const store = (id: string) => ({ command: 'store_chunk', chunk_id: id, data: Buffer.from('hello') });
    t.same(await call(a.port, store('k1')), { status: 'error', message: 'auth_required' });
    t.same(await call(master.port, { command: 'add_file', file_path: '/x', total_size: 1, total_chunks: 1 }), { status: 'error', message: 'auth_required' });
    t.same(await send(a.port, signed(store('k2'), 'alice', randomBytes(32).toString('hex'))), { status: 'error', message: 'auth_failed: bad_signature' });
    t.same(await send(a.port, signed(store('k3'), 'mallory', ALICE_KEY)), { status: 'error', message: 'auth_failed: unknown_key' });
    t.same(await send(a.port, signed(store('k4'), 'alice', ALICE_KEY, Date.now() - 10 * 60_000)), { status: 'error', message: 'auth_failed: expired' });
    const once = await signed({ command: 'delete_chunk', chunk_id: 'c1' }, 'alice', ALICE_KEY);
    t.same(await send(b.port, once), { status: 'ok' });
    await send(b.port, signed({ command: 'store_chunk', chunk_id: 'c1', data: Buffer.from('back') }, 'alice', ALICE_KEY));
    t.same(await send(b.port, once), { status: 'error', message: 'auth_failed: replayed' });
    t.equal(Buffer.from((await call(b.port, { command: 'retrieve_chunk', chunk_id: 'c1' })).data).toString(), 'back', 'the replay deleted nothing');
    // Reads need no key under client_auth = "writes".
    t.equal((await call(a.port, { command: 'check_space', size: 1 })).status, 'ok');
    for (const id of ['k1', 'k2', 'k3', 'k4']) t.same(await call(a.port, { command: 'retrieve_chunk', chunk_id: id }), { status: 'error', message: 'chunk_not_found' });
  });

  await t.test('altered data is refused, small frames and large streamed ones alike', async (t) => {
    for (const size of [1000, 3 * 1024 * 1024]) {
      const data = randomBytes(size);
      const bytes = await signed({ command: 'store_chunk', chunk_id: `alt${size}`, data }, 'alice', ALICE_KEY);
      const at = bytes.indexOf(data.subarray(0, 16)) + Math.floor(size / 2);
      const altered = Buffer.from(bytes);
      altered[at] = altered[at]! ^ 0xff;
      t.same(await send(b.port, altered), { status: 'error', message: 'auth_failed: bad_signature' }, `${size} bytes`);
      t.same(await call(b.port, { command: 'retrieve_chunk', chunk_id: `alt${size}` }), { status: 'error', message: 'chunk_not_found' });
      t.same(await send(b.port, bytes), { status: 'ok', chunk_id: `alt${size}`, replicas: 0, version: 1 }, 'the same frame unaltered is taken');
    }
  });

  await t.test("the master's re-replication is signed: a chunk held once is copied to the other member", async (t) => {
    const data = randomBytes(50_000);
    t.equal((await send(a.port, signed({ command: 'store_chunk', chunk_id: 'rr', data }, 'alice', ALICE_KEY))).status, 'ok');
    const report = { command: 'update_file_metadata', file_path: '/rr', chunk_id: 'rr', chunk_index: 0, chunk_locations: [a.address], chunk_size: data.length, pending_replication: true };
    t.same(await send(master.port, frame(report)), { status: 'error', message: 'auth_required' }, 'an unsigned report is refused');
    t.same(await send(master.port, signed(report, 'alice', ALICE_KEY)), { status: 'ok' });
    const copy = await waitFor('the copy on b', async () => {
      const r = await call(b.port, { command: 'retrieve_chunk', chunk_id: 'rr' });
      return r.status === 'ok' ? Buffer.from(r.data) : undefined;
    }, 20_000);
    t.ok(copy.equals(data));
  });

  await t.test('a revoked key stops working at once, without a restart', async (t) => {
    t.equal((await send(a.port, signed({ command: 'store_chunk', chunk_id: 'r1', data: Buffer.from('1') }, 'alice', ALICE_KEY))).status, 'ok');
    await rm(join(dir, 'clients', 'alice.key'));
    t.same(await send(a.port, signed({ command: 'store_chunk', chunk_id: 'r2', data: Buffer.from('2') }, 'alice', ALICE_KEY)), { status: 'error', message: 'auth_failed: unknown_key' });
    t.same(await send(master.port, signed({ command: 'delete_file', file_path: '/f' }, 'alice', ALICE_KEY)), { status: 'error', message: 'auth_failed: unknown_key' });
    // The members go on: the servers still beat.
    await waitFor('a beat after the revocation', async () => ((await fileMetadata(master.port, '/f')) ? true : undefined));
    await waitForServers(master.port, [a.address, b.address]);
    // Every reply of the master was signed and taken: no server ever saw it as unreachable.
    for (const s of [a, b]) t.notMatch(s.stdout(), /master unreachable/);
  });
});
