// Issue 14, item 1: msgpack extension types (structured-clone shared references among them)
// are refused by both servers, and a tiny frame whose shared references would expand 2^40
// times gets `bad_request: undecodable body` at once instead of freezing the process.
import { Packr } from 'msgpackr';
import t from 'tap';
import { call, Client, lengthPrefixed } from '../../support/frames.js';
import { spawnMaster, spawnServer } from '../../support/processes.js';
import { tempDir } from '../../support/temp.js';

/** A request of a few hundred bytes whose `size` is a binary tree of depth 40 made of shared references. */
function sharedReferenceBomb(command: string): Buffer {
  let v: unknown = { a: 1 };
  for (let i = 0; i < 40; i++) v = [v, v];
  return new Packr({ structuredClone: true }).pack({ command, size: v });
}

const EXTENSIONS: Array<[string, Buffer]> = [
  ['fixext 1 (msgpackr undefined)', Buffer.from('82a7636f6d6d616e64ab636865636b5f7370616365a473697a65d40000', 'hex')],
  ['ext 8 timestamp', Buffer.from('82a7636f6d6d616e64ab636865636b5f7370616365a473697a65d6ff00000001', 'hex')],
  ['msgpackr Set (0x73)', new Packr({ moreTypes: true }).pack({ command: 'check_space', size: new Set([1, 2]) })],
  ['msgpackr record', new Packr({ useRecords: true }).pack([{ command: 'check_space', size: 1 }, { command: 'check_space', size: 1 }])],
];

for (const which of ['chunk server', 'master'] as const) {
  t.test(`${which}: a shared-reference bomb is refused at once and the server keeps serving`, async (t) => {
    const dir = await tempDir(t);
    const server = which === 'master' ? await spawnMaster(t, ['--metadata', 'meta.json'], dir) : await spawnServer(t, ['--data_dir', 'data', '--no_master'], dir);
    const bomb = sharedReferenceBomb(which === 'master' ? 'get_chunk_servers' : 'check_space');
    t.ok(bomb.length < 1024, `the frame is small (${bomb.length} bytes)`);
    const c = await Client.connect(server.port, t);
    c.write(lengthPrefixed(bomb));
    t.same(await c.next(), { status: 'error', message: 'bad_request: undecodable body' });
    await c.closed();
    const probe = which === 'master' ? { command: 'list_files' } : { command: 'check_space', size: 1 };
    t.match(await call(server.port, probe), { status: 'ok' }, 'a new connection is served');
  });
}

t.test('chunk server: every msgpack extension type is an undecodable body', async (t) => {
  const dir = await tempDir(t);
  const server = await spawnServer(t, ['--data_dir', 'data', '--no_master'], dir);
  for (const [name, body] of EXTENSIONS) {
    const c = await Client.connect(server.port, t);
    c.write(lengthPrefixed(body));
    t.same(await c.next(), { status: 'error', message: 'bad_request: undecodable body' }, name);
    await c.closed();
  }
  const deep = Buffer.concat([Buffer.alloc(100, 0x91), Buffer.from([0xc0])]);
  const c = await Client.connect(server.port, t);
  c.write(lengthPrefixed(deep));
  t.same(await c.next(), { status: 'error', message: 'bad_request: undecodable body' }, 'nested 100 deep');
  await c.closed();
  t.same(await call(server.port, { command: 'check_space', size: 1 }), { status: 'ok' });
});
