// Issue 21 item 4, on real processes under client_auth = "writes": a sender without a proof
// can neither take the master's client slots, nor steer placement by moving a client, nor
// reserve the chunk server's space with large frames it never finishes.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { freePort, masterToml, writeToml } from '../../support/configs.js';
import { MIB } from '../../support/data.js';
import { call, Client, frame, type Reply } from '../../support/frames.js';
import { http, sample } from '../../support/http.js';
import { spawnMaster, spawnServer } from '../../support/processes.js';
import { tempDir, type Teardown } from '../../support/temp.js';
import { waitFor } from '../../support/waits.js';
import { signedBytes, signedLastBytes } from '../../support/signed.js';

const CLUSTER_KEY = randomBytes(32).toString('hex');
const ALICE_KEY = randomBytes(32).toString('hex');
const MAX_CLIENTS = 10_000;
// Room for the unsigned frames, or for the signed store, not for both.
const SPACE_MB = 64;
// [security] unverified_mb's default.
const UNVERIFIED_MB = 16;

async function securedDir(t: Teardown): Promise<string> {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'cluster.key'), `${CLUSTER_KEY}\n`);
  await mkdir(join(dir, 'clients'));
  await writeFile(join(dir, 'clients', 'alice.key'), `${ALICE_KEY}\n`);
  return dir;
}

const SECURITY = `[security]\ncluster_key_file = "cluster.key"\nclient_auth = "writes"\nclient_keys_dir = "clients"\n`;

async function signedCall(port: number, obj: Record<string, unknown>): Promise<Reply> {
  const c = await Client.connect(port);
  try {
    c.write(await signedBytes(obj, 'alice', ALICE_KEY));
    const r = await c.next();
    if (r === null) throw new Error('closed without a reply');
    return r;
  } finally {
    c.close();
  }
}

function clientNode(graph: Reply, id: string): Reply | undefined {
  return (graph.graph_data.nodes as Reply[]).find((n) => n.type === 'client' && n.id === id);
}

t.test('under client_auth = "writes", the client table is only for signed clients', async (t) => {
  const dir = await securedDir(t);
  const config = await writeToml(dir, 'm.toml', `${masterToml()}${SECURITY}`);
  const master = await spawnMaster(t, ['--config', config, '--port', '0', '--metadata', 'meta.json'], dir);

  await t.test('unsigned registrations do not fill the table: a signed client still registers', async (t) => {
    // Pipelined on one connection: the master answers each in order.
    const c = await Client.connect(master.port, t);
    const frames = Array.from({ length: MAX_CLIENTS }, (_, i) => frame({ command: 'register_client', client_id: `squatter${i}`, location: [0, 0] }));
    c.write(Buffer.concat(frames));
    const seen = new Map<string, number>();
    for (let i = 0; i < MAX_CLIENTS; i++) {
      const r = await c.next();
      if (r === null) throw new Error(`closed after ${i} replies`);
      const key = r.status === 'ok' ? 'ok' : String(r.message);
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    c.close();
    t.same(Object.fromEntries(seen), { auth_required: MAX_CLIENTS }, 'every unsigned registration is refused');
    t.same(await signedCall(master.port, { command: 'register_client', client_id: 'alice-1', location: [1, 1] }), { status: 'ok' });
    const graph = await call(master.port, { command: 'get_graph_data' });
    t.same(graph.graph_data.active_clients, ['alice-1'], 'only the signed client is registered');
  });

  await t.test("an unsigned heartbeat or registration cannot move a client's location", async (t) => {
    for (const forged of [
      { command: 'client_heartbeat', client_id: 'alice-1', location: [500, 500] },
      { command: 'register_client', client_id: 'alice-1', location: [500, 500] },
    ]) {
      t.same(await call(master.port, forged), { status: 'error', message: 'auth_required' }, forged.command);
    }
    const graph = await call(master.port, { command: 'get_graph_data' });
    t.same(clientNode(graph, 'alice-1')?.location, [1, 1], 'the client stays where it registered');
    t.same(await signedCall(master.port, { command: 'client_heartbeat', client_id: 'alice-1', location: [2, 2] }), { status: 'ok' }, 'its own signed beat moves it');
    t.same(clientNode(await call(master.port, { command: 'get_graph_data' }), 'alice-1')?.location, [2, 2]);
  });
});

t.test('under client_auth = "writes", unsigned bytes never take the space a signed store needs', async (t) => {
  const dir = await securedDir(t);
  const config = await writeToml(dir, 'c.toml', `[chunk_server]\nframe_timeout_s = 40\n${SECURITY}`);
  const metricsPort = await freePort();
  const args = ['--config', config, '--no_master', '--server_id', 's', '--data_dir', 'data', '--port', '0', '--space', String(SPACE_MB)];
  const server = await spawnServer(t, [...args, '--metrics_port', String(metricsPort)], dir);
  const received = async (): Promise<number> => sample((await http(metricsPort, 'GET', '/metrics')).body.toString(), 'chunkserver_received_bytes_total') ?? 0;

  await t.test('three unsigned 20 MiB stores held open just short of their end', async (t) => {
    const before = await received();
    let sent = 0;
    const held = await Promise.all(
      Array.from({ length: 3 }, async (_, i) => {
        const c = await Client.connect(server.port, t);
        const bytes = frame({ command: 'store_chunk', chunk_id: `squat${i}`, data: randomBytes(20 * MIB) });
        c.write(bytes.subarray(0, bytes.length - 1000));
        sent += bytes.length - 1000;
        return c;
      }),
    );
    // Every byte sent was read by the server (and, before this fix, reserved against its space).
    await waitFor('the unsigned bytes read', async () => ((await received()) - before >= sent ? true : undefined));
    const data = randomBytes(8 * MIB);
    const r = await signedCall(server.port, { command: 'store_chunk', chunk_id: 'mine', data });
    t.same(r, { status: 'ok', chunk_id: 'mine', replicas: 0, version: 1 }, 'the signed store (auth_id first) is taken while they hold');
    t.ok(Buffer.from((await call(server.port, { command: 'retrieve_chunk', chunk_id: 'mine' })).data).equals(data));
    for (const c of held) t.notOk(c.ended, 'the unsigned senders were not cut off early: they only lost their bytes');
    for (const c of held) c.close();
  });

  await t.test('an old sender that signs with auth_id last gets the small budget', async (t) => {
    const small = randomBytes(2 * MIB);
    const c = await Client.connect(server.port, t);
    c.write(signedLastBytes({ command: 'store_chunk', chunk_id: 'old-small', data: small }, 'alice', ALICE_KEY));
    t.same(await c.next(), { status: 'ok', chunk_id: 'old-small', replicas: 0, version: 1 }, 'within the budget: stored');
    c.write(signedLastBytes({ command: 'store_chunk', chunk_id: 'old-big', data: randomBytes(UNVERIFIED_MB * MIB + 1) }, 'alice', ALICE_KEY));
    t.same(await c.next(), { status: 'error', message: 'unverified_too_large' }, 'past it: refused, the connection stays');
    t.same(await c.call({ command: 'check_space', size: 1 }), { status: 'ok' });
    c.close();
    t.ok(Buffer.from((await call(server.port, { command: 'retrieve_chunk', chunk_id: 'old-small' })).data).equals(small));
    t.same(await call(server.port, { command: 'retrieve_chunk', chunk_id: 'old-big' }), { status: 'error', message: 'chunk_not_found' });
  });

  await t.test('unknown and unsigned senders of large values are refused as before', async (t) => {
    const data = randomBytes(2 * MIB);
    t.same(await call(server.port, { command: 'store_chunk', chunk_id: 'anon', data }), { status: 'error', message: 'auth_required' });
    const c = await Client.connect(server.port, t);
    c.write(await signedBytes({ command: 'store_chunk', chunk_id: 'mallory', data }, 'mallory', ALICE_KEY));
    t.same(await c.next(), { status: 'error', message: 'auth_failed: unknown_key' });
    c.close();
  });
});
