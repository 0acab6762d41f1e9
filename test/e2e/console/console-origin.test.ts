// Issue 21 item 3: a page of another site makes a visitor's browser POST, PUT or DELETE to
// the console; none of it changes anything (403), while requests carrying the console page's
// proof from its own origin still work. Real master and chunk server processes.
import t from 'tap';
import { spawnChunk } from '../../support/cluster.js';
import { chunkToml, freePort, masterToml, writeToml } from '../../support/configs.js';
import { http } from '../../support/http.js';
import { spawnMaster } from '../../support/processes.js';
import { tempDir } from '../../support/temp.js';
import { waitFor } from '../../support/waits.js';

const q = (p: string): string => encodeURIComponent(p);

t.test('cross-site and proof-less changes get 403 and change nothing; the page\'s own requests work', async (t) => {
  const dir = await tempDir(t, 'console-origin-');
  const web = await freePort();
  const config = await writeToml(dir, 'm.toml', masterToml({ extra: 'replication_factor = 1\nconsole_chunk_mb = 1\n' }));
  const master = await spawnMaster(t, ['--config', config, '--port', '0', '--metadata', 'meta.json', '--http_port', String(web)], dir);
  await spawnChunk(t, dir, { id: 'a', master: master.port, config: await writeToml(dir, 'c.toml', chunkToml()) });
  await waitFor('a live server with space', async () => {
    const state = (await http(web, 'GET', '/api/state')).json();
    return state.servers.some((s: any) => s.state === 'live' && s.total) ? true : undefined;
  });
  const own = { origin: `http://127.0.0.1:${web}`, 'sec-fetch-site': 'same-origin' };
  t.equal((await http(web, 'PUT', `/api/file?path=${q('/victim')}`, 'original', { headers: own })).status, 201, 'the page uploads');
  const size = async (): Promise<number> => (await http(web, 'GET', `/api/file?path=${q('/victim')}`)).json().size;

  // What a browser sends for a form or fetch(no-cors) of evil.example: no custom header can be added.
  const crossSite = { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site', 'content-type': 'text/plain' };
  const attempts: Array<[string, string, Record<string, string>, boolean]> = [
    ['POST', `/api/file/append?path=${q('/victim')}`, crossSite, false],
    ['POST', `/api/file/append?path=${q('/victim')}`, { origin: 'http://evil.example' }, false],
    ['POST', `/api/file/append?path=${q('/victim')}`, { 'sec-fetch-site': 'same-site' }, false],
    // An old browser that sends neither header: no proof, no change.
    ['POST', `/api/file/append?path=${q('/victim')}`, {}, false],
    // The proof from another origin (a browser would have asked first, and been refused).
    ['POST', `/api/file/append?path=${q('/victim')}`, { origin: 'http://evil.example' }, true],
    ['DELETE', `/api/file?path=${q('/victim')}`, crossSite, false],
    ['PUT', `/api/file?path=${q('/planted')}`, crossSite, false],
  ];
  for (const [method, path, headers, proof] of attempts) {
    const r = await http(web, method, path, method === 'DELETE' ? undefined : 'evil bytes', { headers, proof });
    t.equal(r.status, 403, `${method} ${JSON.stringify(headers)} proof=${proof}: 403`);
    t.match(r.json(), { error: /^(cross_origin|proof_required)$/, message: /x-gfs-console|console's own page/ });
  }
  t.equal(await size(), 'original'.length, 'the file is unchanged');
  t.equal((await http(web, 'GET', `/api/file?path=${q('/planted')}`)).status, 404, 'nothing was planted');

  // The page's own requests (same origin, with the proof), and a script's (no Origin, with the proof).
  const appended = await http(web, 'POST', `/api/file/append?path=${q('/victim')}`, ' more', { headers: own });
  t.equal(appended.status, 200, 'the page appends');
  t.equal((await http(web, 'POST', `/api/file/append?path=${q('/victim')}`, '!')).status, 200, 'a script with the proof appends');
  t.equal(await size(), 'original more!'.length);
  t.equal((await http(web, 'DELETE', `/api/file?path=${q('/victim')}`, undefined, { headers: own })).status, 200, 'the page deletes');
});

t.test('a page that rebinds its own name to the console (DNS rebinding) reaches nothing', async (t) => {
  const dir = await tempDir(t, 'console-rebind-');
  const web = await freePort();
  const config = await writeToml(dir, 'm.toml', masterToml({ extra: 'console_hosts = ["gfs.example.org"]\n' }));
  await spawnMaster(t, ['--config', config, '--port', '0', '--metadata', 'meta.json', '--http_port', String(web)], dir);
  // What the rebinding page's browser sends: its own name as Host and Origin, the proof it may add as same-origin.
  const rebound = { host: `evil.example:${web}`, origin: `http://evil.example:${web}`, 'sec-fetch-site': 'same-origin' };
  for (const [method, path] of [['GET', '/api/state'], ['POST', `/api/file/append?path=${q('/x')}`], ['GET', '/']] as const) {
    const r = await http(web, method, path, method === 'POST' ? 'evil bytes' : undefined, { headers: rebound, proof: true });
    t.equal(r.status, 403, `${method} ${path} under a foreign name: 403`);
    t.match(r.json(), { error: 'host_not_allowed', message: /console_hosts/ });
  }
  for (const host of [`127.0.0.1:${web}`, `localhost:${web}`, `[::1]:${web}`, `GFS.example.org:${web}`]) {
    t.equal((await http(web, 'GET', '/api/state', undefined, { headers: { host } })).status, 200, `${host} is this console`);
  }
});
