// Issue 21 item 4, on real processes under client_auth = "writes": a sender without a proof
// can neither take the master's client slots nor steer placement by moving a client.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { masterToml, writeToml } from '../../support/configs.js';
import { call, Client, frame, type Reply } from '../../support/frames.js';
import { spawnMaster } from '../../support/processes.js';
import { tempDir, type Teardown } from '../../support/temp.js';
import { signedBytes } from '../../support/signed.js';

const CLUSTER_KEY = randomBytes(32).toString('hex');
const ALICE_KEY = randomBytes(32).toString('hex');
const MAX_CLIENTS = 10_000;

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
