// Issue 25 item 5: the cluster remembers its members. A chunk server that died is still
// listed, dead, after the master restarts (gfs servers, the console's state, the metrics),
// until `gfs forget` drops it; forgotten, it stays gone across the next restart; a live
// server cannot be forgotten.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { waitForReports } from '../../support/cluster-probes.js';
import { startCluster, type Cluster } from '../../support/cluster.js';
import { freePort } from '../../support/configs.js';
import { http, sample } from '../../support/http.js';
import { waitFor } from '../../support/waits.js';

type Row = { address: string; state: string };

async function servers(c: Cluster): Promise<Row[]> {
  const run = await c.gfs(['--json', 'servers']);
  if (run.code !== 0) throw new Error(`gfs servers: ${run.stderr}`);
  return (JSON.parse(run.stdout.toString()).servers as Row[]).map(({ address, state }) => ({ address, state }));
}

async function consoleStates(web: number): Promise<Row[]> {
  const state = (await http(web, 'GET', '/api/state')).json() as { servers: Row[] };
  return state.servers.map(({ address, state }) => ({ address, state })).sort((a, b) => (a.address < b.address ? -1 : 1));
}

async function deadInMetrics(web: number): Promise<number | undefined> {
  return sample((await http(web, 'GET', '/metrics')).body.toString(), 'master_chunk_servers', { state: 'dead' });
}

async function restartMaster(c: Cluster, live: string[]): Promise<void> {
  c.master.proc.kill('SIGTERM');
  await c.master.exited;
  await c.restartMaster();
  await waitForReports(c.master.port, live);
}

t.test('a dead server is remembered across master restarts until forgotten', async (t) => {
  const web = await freePort();
  const c = await startCluster(t, { servers: 3, master: `http_port = ${web}\n` });
  const [s1, s2, s3] = c.servers.map((s) => s.address) as [string, string, string];
  const byAddress = (rows: Row[]): Row[] => rows.slice().sort((a, b) => (a.address < b.address ? -1 : 1));
  await writeFile(join(c.base, 'a.txt'), 'remembered\n');
  t.equal((await c.gfs(['put', 'a.txt', '/a.txt'])).code, 0);

  c.servers[2]!.proc.kill('SIGKILL');
  await c.servers[2]!.exited;
  await restartMaster(c, [s1, s2]);
  const withDead = byAddress([{ address: s1, state: 'live' }, { address: s2, state: 'live' }, { address: s3, state: 'dead' }]);
  t.same(byAddress(await servers(c)), withDead, 'gfs servers lists the silent server as dead');
  t.same(await waitFor('the console lists it', async () => ((await consoleStates(web)).length === 3 ? consoleStates(web) : undefined)), withDead, 'so does the console');
  t.equal(await deadInMetrics(web), 1, 'and the metrics');

  const live = await c.gfs(['--json', 'forget', s1]);
  t.equal(live.code, 1, 'a live server is not forgotten');
  t.match(JSON.parse(live.stdout.toString()), { status: 'error', code: 'server_live' });
  t.equal((await servers(c)).length, 3);

  const forgot = await c.gfs(['forget', s3]);
  t.equal(forgot.code, 0, forgot.stderr);
  t.equal(forgot.stdout.toString(), `forgot ${s3}\n`);
  const without = byAddress([{ address: s1, state: 'live' }, { address: s2, state: 'live' }]);
  t.same(byAddress(await servers(c)), without, 'gone from gfs servers');
  t.same(await consoleStates(web), without, 'from the console');
  t.equal(await deadInMetrics(web), 0, 'from the metrics');

  await restartMaster(c, [s1, s2]);
  t.same(byAddress(await servers(c)), without, 'still gone after another restart');
  t.same(await consoleStates(web), without);
  t.equal(await deadInMetrics(web), 0);
  const unknown = await c.gfs(['--json', 'forget', s3]);
  t.match(JSON.parse(unknown.stdout.toString()), { status: 'error', code: 'unknown_server' }, 'forgotten: unknown now');
});
