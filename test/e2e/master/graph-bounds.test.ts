// Issue 14, item 7: get_graph_data stays linear in the number of nodes (each node is linked
// to its 3 nearest chunk servers).
import t from 'tap';
import { GRAPH_NEIGHBOURS } from '../../../src/master/nodes.js';
import { writeToml } from '../../support/configs.js';
import { Client } from '../../support/frames.js';
import { spawnMaster } from '../../support/processes.js';
import { tempDir } from '../../support/temp.js';

const CLIENTS = 2500;
const SERVERS = 5;

t.test('2,500 clients: the graph has at most 3 edges per node, each client its 3 nearest servers', async (t) => {
  const dir = await tempDir(t);
  // Beats every 30 s: the registered (fake) servers stay live for the whole test.
  const config = await writeToml(dir, 'm.toml', '[master]\nheartbeat_interval = 30\n');
  const master = await spawnMaster(t, ['--config', config, '--metadata', 'meta.json'], dir);
  const c = await Client.connect(master.port, t);
  for (let i = 0; i < SERVERS; i++) c.send({ command: 'register_chunk_server', address: `127.0.0.1:${7000 + i}`, location: [i * 20, 0] });
  for (let i = 0; i < CLIENTS; i++) c.send({ command: 'register_client', client_id: `c${i}`, location: [i % 100, Math.floor(i / 100)] });
  let ok = 0;
  for (let i = 0; i < SERVERS + CLIENTS; i++) if ((await c.next())?.status === 'ok') ok++;
  t.equal(ok, SERVERS + CLIENTS, 'every registration taken');
  const r = await c.call({ command: 'get_graph_data' });
  t.equal(r.status, 'ok');
  const g = r.graph_data;
  t.equal(g.nodes.length, SERVERS + CLIENTS, 'every node is listed');
  t.ok(g.edges.length <= GRAPH_NEIGHBOURS * g.nodes.length, `edges ${g.edges.length} <= 3 per node`);
  const perClient = new Map<string, number>();
  for (const e of g.edges) perClient.set(e.source, (perClient.get(e.source) ?? 0) + 1);
  t.equal(perClient.get('c0'), GRAPH_NEIGHBOURS);
  // c0 is at (0,0): its nearest servers are those at x = 0, 20, 40.
  t.same(g.edges.filter((e: any) => e.source === 'c0').map((e: any) => e.target), ['127.0.0.1:7000', '127.0.0.1:7001', '127.0.0.1:7002']);
});
