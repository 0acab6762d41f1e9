// Small files in two round trips (issue 23 item 5) on real processes: a put of a file that
// fits in one chunk asks the master once (create_file) and stores once; a get asks the master
// once and retrieves once; the master's request counters prove it. A replica that is down
// fails the put, and nothing of the file is left for a reader.
import { PassThrough } from 'node:stream';
import t, { type Test } from 'tap';
import { GfsClient } from '../../../src/client/index.js';
import { startCluster, type Cluster } from '../../support/cluster.js';
import { freePort } from '../../support/configs.js';
import { call } from '../../support/frames.js';
import { http, sample } from '../../support/http.js';
import { bytes } from '../../support/data.js';

const SMALL = 4096;
// Commands a client may send the master around a put or a get (not get_chunk_servers: the
// chunk servers ask it for their member list after every heartbeat).
const CLIENT_COMMANDS = ['create_file', 'get_file_metadata', 'add_file', 'cluster_status', 'get_chunk_locations', 'delete_file', 'get_replica_locations'];

type Counts = Record<string, number>;

async function counts(httpPort: number): Promise<Counts> {
  const text = (await http(httpPort, 'GET', '/metrics')).body.toString();
  return Object.fromEntries(CLIENT_COMMANDS.map((c) => [c, sample(text, 'master_requests_total', { command: c, outcome: 'ok', code: 'ok' }) ?? 0]));
}

function delta(before: Counts, after: Counts): Counts {
  return Object.fromEntries(CLIENT_COMMANDS.map((c) => [c, after[c]! - before[c]!]).filter(([, n]) => n !== 0));
}

async function cluster(t: Test, master = ''): Promise<{ c: Cluster; httpPort: number }> {
  const httpPort = await freePort();
  const c = await startCluster(t, { master: `http_port = ${httpPort}\n${master}` });
  return { c, httpPort };
}

t.test('a small put: one master call (create_file), one store; a get: one master call, one retrieve', async (t) => {
  const { c, httpPort } = await cluster(t);
  const client = new GfsClient({ master: c.master.address });
  t.teardown(() => client.close());
  const data = bytes(SMALL, 7);

  const before = await counts(httpPort);
  const r = await client.put(data, '/small/a');
  const afterPut = await counts(httpPort);
  t.same(delta(before, afterPut), { create_file: 1 }, 'the put asked the master create_file and nothing else');
  t.match(r, { size: SMALL, chunks: 1, copies: [3], factor: 3 });

  const meta = (await call(c.master.port, { command: 'get_file_metadata', file_path: '/small/a' })).metadata;
  t.equal(meta.total_size, SMALL, 'the primary recorded the stored size before answering');
  t.equal(meta.chunk_locations[meta.chunk_ids[0]].length, 3, 'on every placed server');

  const mid = await counts(httpPort);
  const back: Buffer[] = [];
  const out = new PassThrough().on('data', (b: Buffer) => back.push(b));
  t.equal(await client.get('/small/a', out), SMALL);
  t.same(delta(mid, await counts(httpPort)), { get_file_metadata: 1 }, 'the get asked the master once');
  t.ok(Buffer.concat(back).equals(data), 'the bytes come back');

  await t.rejects(client.put(bytes(SMALL, 8), '/small/a'), { code: 'file_exists' }, 'no overwrite without asking');
  await client.put(bytes(SMALL, 9), '/small/a', { overwrite: true });
  const again: Buffer[] = [];
  await client.get('/small/a', new PassThrough().on('data', (b: Buffer) => again.push(b)));
  t.ok(Buffer.concat(again).equals(bytes(SMALL, 9)), 'overwritten');
});

t.test('16 clients putting small files at once: every file whole', async (t) => {
  const { c } = await cluster(t);
  const clients = Array.from({ length: 16 }, () => new GfsClient({ master: c.master.address }));
  t.teardown(() => clients.forEach((cl) => cl.close()));
  await Promise.all(clients.map(async (cl, i) => {
    for (let k = 0; k < 4; k++) await cl.put(bytes(SMALL, 16 * k + i + 1), `/many/${i}-${k}`);
  }));
  const reader = new GfsClient({ master: c.master.address });
  t.teardown(() => reader.close());
  const wrong: string[] = [];
  for (let i = 0; i < 16; i++) {
    for (let k = 0; k < 4; k++) {
      const got: Buffer[] = [];
      await reader.get(`/many/${i}-${k}`, new PassThrough().on('data', (b: Buffer) => got.push(b)));
      if (!Buffer.concat(got).equals(bytes(SMALL, 16 * k + i + 1))) wrong.push(`${i}-${k}`);
    }
  }
  t.same(wrong, [], 'all 64 files read back whole');
});

t.test('a placed replica down: the put fails and leaves no file', async (t) => {
  // The master keeps the killed server live (and placed) long after it died.
  const { c } = await cluster(t, 'dead_after_s = 600\n');
  const client = new GfsClient({ master: c.master.address });
  t.teardown(() => client.close());
  const victim = c.servers[2]!;
  victim.proc.kill('SIGKILL');
  await victim.exited;
  await t.rejects(client.put(bytes(SMALL, 3), '/small/fails'), { code: 'chunk_unavailable' }, 'an error, not an acknowledgement with fewer copies');
  t.same((await call(c.master.port, { command: 'get_file_metadata', file_path: '/small/fails' })).metadata, null, 'no file, empty or partial, is left');
});
