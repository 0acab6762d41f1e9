// The console of a cluster under client_auth: without [master] console_key_file its writes
// answer 403 console_key_required at once (the master and its TCP side unharmed); with a key
// the servers know, upload, download, append and delete work through the HTTP API, each
// request signed; with a key they do not know, 403 auth_refused in the servers' words.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { GfsClient } from '../../../src/client/index.js';
import { clientIO, type ConsoleAction } from '../../../src/master/console/cluster-io.js';
import { spawnChunk } from '../../support/cluster.js';
import { chunkToml, freePort, masterToml, writeToml } from '../../support/configs.js';
import { bytes, MIB } from '../../support/data.js';
import { call } from '../../support/frames.js';
import { http } from '../../support/http.js';
import { runMaster, spawnMaster, type ChildServer } from '../../support/processes.js';
import { tempDir } from '../../support/temp.js';
import { waitFor, logged } from '../../support/waits.js';

const q = (p: string): string => encodeURIComponent(p);
const key = (): string => `${randomBytes(32).toString('hex')}\n`;

t.test('the console signs its requests with [master] console_key_file under client_auth = "writes"', async (t) => {
  const dir = await tempDir(t, 'console-auth-');
  await writeFile(join(dir, 'cluster.key'), key());
  await mkdir(join(dir, 'clients'));
  await writeFile(join(dir, 'clients', 'alice.key'), key());
  await writeFile(join(dir, 'clients', 'console.key'), key());
  await writeFile(join(dir, 'stranger.key'), key());
  const security = `[security]\ncluster_key_file = "cluster.key"\nclient_auth = "writes"\nclient_keys_dir = "clients"\n`;
  const port = await freePort();
  const web = await freePort();
  // One master at a time on the same ports and namespace, restarted with another [master] section.
  const startMaster = async (consoleKey: string | null): Promise<ChildServer> => {
    const extra = `replication_factor = 2\nconsole_chunk_mb = 1\n${consoleKey === null ? '' : `console_key_file = "${consoleKey}"\n`}`;
    const config = await writeToml(dir, 'm.toml', `${masterToml({ extra })}${security}`);
    return spawnMaster(t, ['--config', config, '--port', String(port), '--metadata', 'meta.json', '--http_port', String(web)], dir);
  };
  const stop = async (m: ChildServer): Promise<void> => {
    m.proc.kill('SIGTERM');
    await m.exited;
  };
  const bothLive = (): Promise<unknown> =>
    waitFor('two live servers with space, on the console', async () => {
      const state = (await http(web, 'GET', '/api/state')).json();
      return state.servers.filter((s: any) => s.state === 'live' && s.total).length === 2 ? true : undefined;
    });

  let master = await startMaster(null);
  const chunkConfig = await writeToml(dir, 'c.toml', `${chunkToml()}${security}`);
  await spawnChunk(t, dir, { id: 'a', master: port, config: chunkConfig, x: 10, y: 10 });
  await spawnChunk(t, dir, { id: 'b', master: port, config: chunkConfig, x: 90, y: 90 });
  await bothLive();

  // No console key: every write is refused before a byte moves, with what to do about it.
  const data = bytes(2.5 * MIB, 13);
  const refused = await http(web, 'PUT', `/api/file?path=${q('/keyless')}`, data);
  t.equal(refused.status, 403);
  t.match(refused.json(), { error: 'console_key_required', message: /client_auth = "writes".*\[master\] console_key_file/ });
  t.equal((await http(web, 'GET', `/api/file?path=${q('/keyless')}`)).status, 404, 'nothing of the refused upload is listed');
  // A file a keyed client stored: the console reads it (reads need no key under "writes") but cannot change it.
  const alice = new GfsClient({ master: master.address, chunkSize: MIB, keyFile: join(dir, 'clients', 'alice.key') });
  await alice.put(data, '/by-alice');
  const read = await http(web, 'GET', `/api/file/data?path=${q('/by-alice')}`);
  t.equal(read.status, 200);
  t.ok(read.body.equals(data), 'the console downloads it byte-identical');
  t.match((await http(web, 'POST', `/api/file/append?path=${q('/by-alice')}`, 'more')).json(), { error: 'console_key_required', message: /appends must be signed/ });
  const del = await http(web, 'DELETE', `/api/file?path=${q('/by-alice')}`);
  t.equal(del.status, 403);
  t.match(del.json(), { error: 'console_key_required', message: /deletes must be signed/ });
  t.equal((await alice.stat('/by-alice')).size, data.length, 'the file is still there');
  t.equal((await call(port, { command: 'get_chunk_servers' })).status, 'ok', "the master's TCP side answers throughout");
  t.equal((await http(web, 'GET', '/healthz')).status, 200, 'and its HTTP side');
  await stop(master);

  // A key file that cannot be read stops the master at start-up, naming the key.
  const bad = await writeToml(dir, 'bad.toml', `${masterToml({ extra: 'console_key_file = "no-such.key"\n' })}${security}`);
  const start = await runMaster(['--config', bad, '--port', '0', '--metadata', 'other.json'], dir);
  t.not(start.code, 0, 'the master does not start with an unreadable console key');
  t.match(start.stderr, /\[master\] console_key_file: cannot read key file .*no-such\.key/);

  // A key the servers do not know: the servers' refusal, in their words.
  master = await startMaster('stranger.key');
  await bothLive();
  t.ok(await logged(() => master.stdout(), /the console key is not in this master's client_keys_dir/), 'the master warns at start-up');
  const unknown = await http(web, 'PUT', `/api/file?path=${q('/stranger')}`, data);
  t.equal(unknown.status, 403);
  t.match(unknown.json(), { error: 'auth_refused', message: /auth_failed: unknown_key.*signed as client "stranger"/ });
  t.equal((await http(web, 'GET', `/api/file?path=${q('/stranger')}`)).status, 404, 'nothing of it is listed');
  await stop(master);

  // The console's own key, in client_keys_dir: everything works, signed.
  master = await startMaster(join('clients', 'console.key'));
  await bothLive();
  const put = await http(web, 'PUT', `/api/file?path=${q('/signed')}`, data);
  t.equal(put.status, 201, put.status === 201 ? 'a signed upload is stored' : put.body.toString().slice(0, 300));
  t.equal(put.json().chunks.length, 3, 'three chunks of 1 MiB');
  const more = bytes(5000, 14);
  const appended = await http(web, 'POST', `/api/file/append?path=${q('/signed')}`, more);
  t.equal(appended.status, 200, appended.status === 200 ? 'a signed append is taken' : appended.body.toString().slice(0, 300));
  const got = await http(web, 'GET', `/api/file/data?path=${q('/signed')}`);
  t.ok(got.body.equals(Buffer.concat([data, more])), 'downloaded byte-identical, appended bytes included');
  t.equal((await http(web, 'DELETE', `/api/file?path=${q('/signed')}`)).status, 200);
  t.equal((await http(web, 'DELETE', `/api/file?path=${q('/by-alice')}`)).status, 200, "and it may delete another client's file, as any keyed client may");
  t.same((await call(port, { command: 'list_files' })).files, [], 'the master lists nothing');
  t.notMatch(master.stdout(), /request refused: authentication/, 'no request of the console was refused');
});

t.test('which actions an unsigned console refuses, by client_auth', async (t) => {
  const client = new GfsClient({ master: '127.0.0.1:1' });
  const refuses = (clientAuth: 'off' | 'writes' | 'all', signsAs: string | null): ConsoleAction[] => {
    const io = clientIO(client, { clientAuth, signsAs });
    return (['upload', 'download', 'append', 'delete'] as const).filter((a) => {
      try {
        io.authorize(a);
        return false;
      } catch (err) {
        t.match(err, { status: 403, code: 'console_key_required' });
        return true;
      }
    });
  };
  t.same(refuses('off', null), [], 'client_auth = "off": nothing');
  t.same(refuses('writes', null), ['upload', 'append', 'delete'], '"writes": the writes');
  t.same(refuses('all', null), ['upload', 'download', 'append', 'delete'], '"all": downloads too');
  t.same(refuses('all', 'console'), [], 'a console with a key: nothing (the servers judge its proofs)');
});
