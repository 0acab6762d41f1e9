import { request } from 'node:http';
import { createServer } from 'node:net';
import t from 'tap';
import { DEFAULTS } from '../../../src/config/chunk-server.js';
import { BEAT_S, freePort } from '../../support/configs.js';
import { bytes, MIB } from '../../support/data.js';
import { call } from '../../support/frames.js';
import { http } from '../../support/http.js';
import { startMasterHere, startServer } from '../../support/in-process.js';
import { tempDir } from '../../support/temp.js';
import { waitFor } from '../../support/waits.js';

type T = { teardown(fn: () => unknown): void };

/** A master with its HTTP side, and `n` in-process chunk servers of `spaceMb` each, all registered. */
async function cluster(t: T, n: number, spaceMb = 4): Promise<{ master: number; web: number }> {
  const dir = await tempDir(t);
  const httpPort = await freePort();
  // Nothing here is about a server's death: on a loaded machine a late beat must not drop a holder.
  const master = await startMasterHere(t, dir, { httpPort, consoleChunkMb: 1, deadAfterS: 60 });
  for (let i = 0; i < n; i++) {
    await startServer(t, {
      serverId: `c${i}`,
      spaceMb,
      x: 10 + 30 * i,
      y: 50,
      heartbeatIntervalS: BEAT_S,
      master: { ...DEFAULTS.master, enabled: true, host: '127.0.0.1', port: master.port },
    });
  }
  await waitFor(`${n} live servers with space reported`, async () => {
    const state = (await http(httpPort, 'GET', '/api/state')).json();
    return state.servers.filter((s: any) => s.state === 'live' && s.total).length === n ? true : undefined;
  });
  return { master: master.port, web: httpPort };
}

const q = (p: string): string => encodeURIComponent(p);

t.test('bad input: 404, 405, 400 with a message, 411, 409, 413 for an upload larger than the free space', async (t) => {
  const { master, web } = await cluster(t, 3, 2);
  const err = async (method: string, path: string, body?: Buffer | string, o?: { chunked?: boolean }): Promise<{ status: number; error: string; message: string }> => {
    const r = await http(web, method, path, body, o);
    return { status: r.status, ...r.json() };
  };
  t.match(await err('GET', '/nope'), { status: 404, error: 'not_found', message: /\/nope/ });
  t.match(await err('GET', '/api/nope'), { status: 404, error: 'not_found' });
  t.match(await err('POST', '/api/state'), { status: 405, error: 'method_not_allowed' });
  t.match(await err('GET', '/api/file'), { status: 400, error: 'bad_request', message: /path=/ });
  t.match(await err('GET', `/api/file?path=${q('a\u0001b')}`), { status: 400, message: /control characters/ });
  t.match(await err('GET', `/api/file?path=${q('x'.repeat(1025))}`), { status: 400, message: /longer than 1024/ });
  t.match(await err('GET', `/api/file?path=${q('/missing')}`), { status: 404, error: 'file_not_found', message: 'no such file: /missing' });
  t.match(await err('GET', `/api/file/data?path=${q('/missing')}`), { status: 404, error: 'file_not_found' });
  t.match(await err('PUT', `/api/file?path=${q('/c')}`, 'abc', { chunked: true }), { status: 411, error: 'length_required' });
  t.match(await err('POST', `/api/file/append?path=${q('/missing')}`, 'abc'), { status: 404, error: 'file_not_found' });

  // Three servers of 2 MiB: 6 MiB free, so 7 MiB cannot fit even once.
  const big = bytes(7 * MIB);
  t.match(await err('PUT', `/api/file?path=${q('/big')}`, big), { status: 413, error: 'insufficient_space', message: /^7\.0 MiB does not fit even once: the live chunk servers have \d+\.\d MiB free$/ });
  t.equal((await http(web, 'GET', `/api/file?path=${q('/big')}`)).status, 404, 'nothing of the refused upload is listed');
  t.same((await call(master, { command: 'list_files' })).files, [], 'nor known to the master');

  // The copies rule of gfs put (issue 25 item 3): min_copies past the servers there are fails and keeps nothing.
  t.match(await err('PUT', `/api/file?path=${q('/strict')}&min_copies=4`, 'hello'), { status: 507, error: 'under_replicated', message: /^chunk 0 was stored with 3 of the 4 copies asked for/ });
  t.equal((await http(web, 'GET', `/api/file?path=${q('/strict')}`)).status, 404, 'nothing of the strict upload is kept');
  t.match(await err('PUT', `/api/file?path=${q('/strict')}&min_copies=0`, 'hello'), { status: 400, message: /min_copies must be a whole number from 1/ });
  const small = await http(web, 'PUT', `/api/file?path=${q('/small')}`, 'hello');
  t.equal(small.status, 201);
  t.match(small.json(), { path: '/small', copies: [3], replication_factor: 3, warnings: [] }, 'the copies each chunk got, as gfs put --json says');
  t.match(await err('PUT', `/api/file?path=${q('/small')}`, 'again'), { status: 409, error: 'file_exists' });
  t.match(await err('POST', `/api/file/append?path=${q('/small')}`, ''), { status: 400, message: /empty/ });
  t.equal((await call(master, { command: 'get_chunk_servers' })).status, 'ok', 'the TCP side answers throughout');

  // Registered clients are on the map too, at their (x, y).
  t.equal((await call(master, { command: 'register_client', client_id: 'laptop', location: [70, 20] })).status, 'ok');
  const state = (await http(web, 'GET', '/api/state')).json();
  t.same(state.clients, [{ client_id: 'laptop', x: 70, y: 20 }]);
  const placed = state.servers.map((s: any) => [s.x, s.y, s.state, s.total]).sort((a: number[], b: number[]) => a[0]! - b[0]!);
  t.same(placed, [10, 40, 70].map((x) => [x, 50, 'live', 2 * MIB]), 'servers at their (x, y) with their capacity');
});

t.test('upload, read back, append and list through the API, on three real chunk servers', async (t) => {
  const { master, web } = await cluster(t, 3);
  // 1 MiB chunks for console uploads: 2.5 MiB makes three chunks.
  const data = bytes(2.5 * MIB, 7);
  const put = await http(web, 'PUT', `/api/file?path=${q('/dir/file one.bin')}`, data);
  t.equal(put.status, 201, put.body.toString().slice(0, 200));
  const file = put.json();
  t.equal(file.size, data.length);
  t.equal(file.chunks.length, 3);
  await waitFor('every chunk on three live holders', async () => {
    const f = (await http(web, 'GET', `/api/file?path=${q('/dir/file one.bin')}`)).json();
    return f.chunks.every((c: any) => c.live_copies === 3 && c.health === 'at_factor') ? f : undefined;
  });
  const got = await http(web, 'GET', `/api/file/data?path=${q('/dir/file one.bin')}`);
  t.equal(got.status, 200);
  t.match(got.headers['content-disposition'], /file%20one\.bin/);
  t.ok(got.body.equals(data), 'byte-identical');

  const more = bytes(1000, 9);
  const appended = await http(web, 'POST', `/api/file/append?path=${q('/dir/file one.bin')}`, more);
  t.equal(appended.status, 200, appended.body.toString());
  t.equal(appended.json().size, data.length + more.length);
  const again = await http(web, 'GET', `/api/file/data?path=${q('/dir/file one.bin')}`);
  t.ok(again.body.equals(Buffer.concat([data, more])), 'the appended bytes follow');

  t.same((await http(web, 'GET', '/api/files?prefix=/dir/')).json().files.map((f: any) => f.path), ['/dir/file one.bin']);
  t.same((await http(web, 'GET', '/api/files?prefix=/other')).json().files, []);
  t.same((await call(master, { command: 'list_files' })).files, ['/dir/file one.bin'], 'the master lists what the console stored');

  const del = await http(web, 'DELETE', `/api/file?path=${q('/dir/file one.bin')}`);
  t.equal(del.status, 200, del.body.toString());
  t.equal((await http(web, 'GET', `/api/file?path=${q('/dir/file one.bin')}`)).status, 404, 'gone');
});

t.test('the HTTP side binds to the master host, and neither a taken port nor an aborted upload takes the TCP side down', async (t) => {
  const dir = await tempDir(t);
  const httpPort = await freePort();
  const master = await startMasterHere(t, dir, { httpPort });
  t.equal((await http(httpPort, 'GET', '/healthz')).status, 200);
  // Bound to 127.0.0.1 (the master's host), not to every address: 127.0.0.2 is refused.
  await t.rejects(http(httpPort, 'GET', '/healthz', undefined, { host: '127.0.0.2' }), { code: 'ECONNREFUSED' });

  // A client that promises 1 MiB, sends a little, and goes away.
  await startServer(t, { serverId: 'c0', heartbeatIntervalS: BEAT_S, master: { ...DEFAULTS.master, enabled: true, host: '127.0.0.1', port: master.port } });
  await waitFor('a live server', async () => ((await http(httpPort, 'GET', '/api/state')).json().totals.servers.live === 1 ? true : undefined));
  await new Promise<void>((resolve) => {
    const req = request({ host: '127.0.0.1', port: httpPort, method: 'PUT', path: `/api/file?path=${q('/cut')}`, headers: { 'content-length': MIB } });
    req.on('error', () => resolve());
    req.write(Buffer.alloc(1000), () => {
      req.destroy();
      resolve();
    });
  });
  t.equal((await call(master.port, { command: 'get_chunk_servers' })).status, 'ok', 'TCP side answers after the aborted upload');
  await waitFor('no half-uploaded file listed', async () => ((await http(httpPort, 'GET', `/api/file?path=${q('/cut')}`)).status === 404 ? true : undefined));
  t.equal((await http(httpPort, 'GET', '/healthz')).status, 200, 'and so does the HTTP side');

  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', () => resolve()));
  t.teardown(() => taken.close());
  const busy = (taken.address() as { port: number }).port;
  const other = await startMasterHere(t, await tempDir(t), { httpPort: busy });
  t.equal(other.httpPort, null, 'no HTTP side on a taken port');
  t.equal((await call(other.port, { command: 'get_chunk_servers' })).status, 'ok', 'the master serves its TCP side without it');
});
