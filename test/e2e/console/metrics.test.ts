import { readFile, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { DEFAULTS } from '../../../src/config/chunk-server.js';
import { BEAT_S, freePort } from '../../support/configs.js';
import { bytes } from '../../support/data.js';
import { call, Client } from '../../support/frames.js';
import { families, http, sample } from '../../support/http.js';
import { startMasterHere, startServer } from '../../support/in-process.js';
import { ROOT } from '../../support/paths.js';
import { tempDir } from '../../support/temp.js';
import { waitFor } from '../../support/waits.js';

// Node's own process and runtime metrics (prom-client's defaults) are not ours to list.
const OURS = /^(chunkserver|master)_/;
const VERSION = (JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const BUILD = { version: VERSION, node_version: process.versions.node };

t.test('chunk server: /metrics counters move with the requests made, /healthz answers', async (t) => {
  const metricsPort = await freePort();
  const dataDir = await tempDir(t);
  const server = await startServer(t, { metricsPort, spaceMb: 8 }, dataDir);
  const before = (await http(metricsPort, 'GET', '/metrics')).body.toString();
  t.equal(sample(before, 'chunkserver_requests_total', { command: 'store_chunk', outcome: 'ok', code: 'ok' }), undefined, 'no store counted yet');
  t.equal(sample(before, 'chunkserver_build_info', BUILD), 1, 'build_info names the release and Node.js');
  // The disk's own numbers, not --space: its size is the file system's, its free bytes what statfs says.
  const disk = await statfs(dataDir);
  t.equal(sample(before, 'chunkserver_filesystem_size_bytes'), disk.blocks * disk.bsize, 'the file system size of the data dir');
  const free = sample(before, 'chunkserver_filesystem_free_bytes')!;
  t.ok(free > 8 * 1024 * 1024 && free <= disk.blocks * disk.bsize, `free bytes of the file system (${free}), not the 8 MiB limit`);
  t.equal(sample(before, 'chunkserver_space_limit_bytes'), 8 * 1024 * 1024);
  t.equal(sample(before, 'chunkserver_chunks'), 0);
  t.equal(sample(before, 'chunkserver_master_up'), 0, 'no master configured');
  t.ok(sample(before, 'process_cpu_user_seconds_total') !== undefined, "Node's default process metrics are there");

  const data = bytes(5000);
  t.equal((await call(server.port, { command: 'store_chunk', chunk_id: 'c1', file_path: '/f', data })).status, 'ok');
  t.equal((await call(server.port, { command: 'retrieve_chunk', chunk_id: 'c1' })).status, 'ok');
  t.equal((await call(server.port, { command: 'retrieve_chunk', chunk_id: 'nope' })).status, 'error');
  t.equal((await call(server.port, { command: 'no_such_command' })).status, 'error');

  const after = (await http(metricsPort, 'GET', '/metrics')).body.toString();
  t.equal(sample(after, 'chunkserver_requests_total', { command: 'store_chunk', outcome: 'ok', code: 'ok' }), 1);
  t.equal(sample(after, 'chunkserver_requests_total', { command: 'retrieve_chunk', outcome: 'ok', code: 'ok' }), 1);
  t.equal(sample(after, 'chunkserver_requests_total', { command: 'retrieve_chunk', outcome: 'error', code: 'chunk_not_found' }), 1, 'an error is counted under its code');
  t.equal(sample(after, 'chunkserver_requests_total', { command: 'unknown', outcome: 'error', code: 'unknown_command' }), 1, 'unknown commands share one label value');
  t.equal(sample(after, 'chunkserver_request_duration_seconds_count', { command: 'store_chunk' }), 1);
  t.equal(sample(after, 'chunkserver_chunks'), 1);
  t.ok(sample(after, 'chunkserver_space_used_bytes')! >= data.length);
  t.ok(sample(after, 'chunkserver_received_bytes_total')! >= data.length, 'the stored bytes were received');
  t.ok(sample(after, 'chunkserver_sent_bytes_total')! >= data.length, 'the retrieved bytes were sent');
  const held = await Client.connect(server.port, t);
  await held.call({ command: 'check_space', size: 1 });
  t.equal(sample((await http(metricsPort, 'GET', '/metrics')).body.toString(), 'chunkserver_open_connections'), 1, 'the held connection is counted');
  held.close();
  await waitFor('the closed connection uncounted', async () =>
    sample((await http(metricsPort, 'GET', '/metrics')).body.toString(), 'chunkserver_open_connections') === 0 ? true : undefined);

  const health = await http(metricsPort, 'GET', '/healthz');
  t.equal(health.status, 200);
  t.match(health.json(), { status: 'ok', chunks: 1, master_up: false });
  t.equal((await http(metricsPort, 'GET', '/nope')).status, 404);
});

t.test('master: /metrics counts commands, servers and files; /healthz answers', async (t) => {
  const dir = await tempDir(t);
  const httpPort = await freePort();
  // The one heartbeat below must keep its server live however loaded the machine is.
  const master = await startMasterHere(t, dir, { httpPort, deadAfterS: 120 });
  t.equal(master.httpPort, httpPort);
  const scrape = async (): Promise<string> => (await http(httpPort, 'GET', '/metrics')).body.toString();

  const before = await scrape();
  t.equal(sample(before, 'master_chunk_servers', { state: 'live' }), 0);
  t.equal(sample(before, 'master_files'), 0);
  t.equal(sample(before, 'master_replication_factor'), 3);

  await call(master.port, { command: 'heartbeat', address: '127.0.0.1:1', location: [1, 2], space_info: { total: 1000, used: 10 } });
  await call(master.port, { command: 'add_file', file_path: '/a', total_size: 0, chunk_ids: [] });
  await call(master.port, { command: 'update_file_metadata', file_path: '/b', chunk_id: 'x', chunk_locations: ['127.0.0.1:1'], chunk_size: 3, pending_replication: true });
  await call(master.port, { command: 'get_file_metadata', file_path: '/nope' });
  await call(master.port, { command: 'delete_file', file_path: '/nope' });
  await call(master.port, { command: 'frobnicate' });

  const after = await scrape();
  t.equal(sample(after, 'master_requests_total', { command: 'heartbeat', outcome: 'ok', code: 'ok' }), 1);
  t.equal(sample(after, 'master_requests_total', { command: 'add_file', outcome: 'ok', code: 'ok' }), 1);
  t.equal(sample(after, 'master_requests_total', { command: 'delete_file', outcome: 'error', code: 'file_not_found' }), 1);
  t.equal(sample(after, 'master_requests_total', { command: 'unknown', outcome: 'error', code: 'unknown_command' }), 1);
  t.equal(sample(after, 'master_build_info', BUILD), 1);
  t.ok(sample(after, 'master_chunk_server_heartbeat_age_seconds', { server: '127.0.0.1:1' })! >= 0, 'the server\'s heartbeat age is there');
  t.equal(sample(after, 'master_http_request_duration_seconds_count', { route: '/metrics' }), 1, 'the first scrape was timed');
  t.equal(sample(after, 'master_repair_copies_total', { result: 'started' }), 0, 'no repair copy yet');
  t.equal(sample(after, 'master_chunk_servers', { state: 'live' }), 1);
  t.equal(sample(after, 'master_files'), 2);
  t.equal(sample(after, 'master_chunks'), 1);
  t.equal(sample(after, 'master_chunks_by_health', { health: 'under_replicated' }), 1, 'one copy of three');
  t.equal(sample(after, 'master_capacity_bytes', { kind: 'free' }), 990);
  t.equal(sample(after, 'master_http_requests_total', { route: '/metrics', code: '200' }), 1, 'the first scrape was counted');

  const health = await http(httpPort, 'GET', '/healthz');
  t.equal(health.status, 200);
  t.match(health.json(), { status: 'ok', live_servers: 1, files: 2 });

  // A decommissioning server is counted as such (cluster_status's word), and its space no longer as free.
  t.equal((await call(master.port, { command: 'decommission_server', address: '127.0.0.1:1', force: true })).status, 'ok');
  const leaving = await scrape();
  t.equal(sample(leaving, 'master_chunk_servers', { state: 'decommissioning' }), 1);
  t.equal(sample(leaving, 'master_chunk_servers', { state: 'live' }), 0);
  t.equal(sample(leaving, 'master_capacity_bytes', { kind: 'free' }), 0);
  const state = (await http(httpPort, 'GET', '/api/state')).json();
  t.match(state.servers, [{ address: '127.0.0.1:1', state: 'decommissioning', decommission_remaining: 1 }], 'the console says so too, with its one chunk still to copy');
});

t.test('master: a repair copy counted started and done; a silent server\'s heartbeat age grows', async (t) => {
  const dir = await tempDir(t);
  const httpPort = await freePort();
  // A late beat on a loaded machine must not drop a holder: death is not what this is about.
  const master = await startMasterHere(t, dir, { httpPort, replicationFactor: 2, deadAfterS: 120 });
  const scrape = async (): Promise<string> => (await http(httpPort, 'GET', '/metrics')).body.toString();
  const member = (id: string): Promise<Awaited<ReturnType<typeof startServer>>> =>
    startServer(t, { serverId: id, heartbeatIntervalS: BEAT_S, master: { ...DEFAULTS.master, enabled: true, host: '127.0.0.1', port: master.port, replicationFactor: 2 } });
  const first = await member('r1');
  await waitFor('r1 registered', async () => (sample(await scrape(), 'master_chunk_servers', { state: 'live' }) === 1 ? true : undefined));
  // One server: the chunk has one copy of two.
  await call(first.port, { command: 'store_chunk', chunk_id: 'rep-1', file_path: '/rep', chunk_index: 0, data: bytes(4000, 3) });
  const second = await member('r2');
  const copied = await waitFor('the repair copy done', async () => {
    const text = await scrape();
    return sample(text, 'master_repair_copies_total', { result: 'done' })! >= 1 ? text : undefined;
  });
  t.ok(sample(copied, 'master_repair_copies_total', { result: 'started' })! >= 1, 'it was counted started');
  t.equal(sample(copied, 'master_repair_copies_total', { result: 'failed' }), 0, 'none failed');

  await second.stop();
  const silent = await waitFor('r2\'s heartbeat age to pass 5 beats', async () => {
    const age = sample(await scrape(), 'master_chunk_server_heartbeat_age_seconds', { server: second.address });
    return age !== undefined && age > 5 * BEAT_S ? age : undefined;
  });
  t.ok(silent > 5 * BEAT_S, 'the stopped server\'s age grows');
  t.ok(sample(await scrape(), 'master_chunk_server_heartbeat_age_seconds', { server: first.address })! < silent, 'the running one keeps beating');
});

t.test('README lists every metric both processes expose', async (t) => {
  const readme = await readFile(join(ROOT, 'docs/operating.md'), 'utf8');
  const metricsPort = await freePort();
  await startServer(t, { metricsPort });
  const httpPort = await freePort();
  await startMasterHere(t, await tempDir(t), { httpPort });
  const names = [...families((await http(metricsPort, 'GET', '/metrics')).body.toString()), ...families((await http(httpPort, 'GET', '/metrics')).body.toString())];
  const ours = names.filter((n) => OURS.test(n));
  t.ok(ours.length > 20, 'both registries answered');
  for (const name of ours) t.ok(readme.includes(`\`${name}\``), `README names ${name}`);
});
