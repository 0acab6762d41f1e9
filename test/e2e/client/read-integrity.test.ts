// Issue 21 item 5: the client checks every byte it returns. A registered server that answers
// a retrieve with wrong bytes of the right length and no `version` is skipped and reported
// to the master, the read goes on from an honest holder; with no honest holder left, gfs
// get exits 1 and leaves nothing behind.
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { startCluster } from '../../support/cluster.js';
import { locations } from '../../support/cluster-probes.js';
import { bytes } from '../../support/data.js';
import { call } from '../../support/frames.js';
import { scriptedPeer } from '../../support/scripted-peer.js';

const SIZE = 150_000;

t.test('a holder that serves wrong bytes', async (t) => {
  const c = await startCluster(t, { servers: 1 });
  const data = bytes(SIZE, 7);
  await writeFile(join(c.base, 'f.bin'), data);
  t.equal((await c.gfs(['put', join(c.base, 'f.bin'), '/f.bin'])).code, 0);
  const [chunkId] = JSON.parse((await c.gfs(['--json', 'stat', '/f.bin'])).stdout.toString()).chunks.map((ch: { chunk_id: string }) => ch.chunk_id);

  // The liar: a chunk server as the reference's are (no chunk reports), registered and
  // beating, that serves the same number of bytes, all wrong, without a version.
  const liar = await scriptedPeer(t, (msg) => (msg.command === 'retrieve_chunk' ? { status: 'ok', data: Buffer.alloc(SIZE, 0x5a) } : { status: 'ok' }));
  const beat = () => call(c.master.port, { command: 'heartbeat', address: liar.address, space_info: { total: 64 << 20, used: 0 } });
  t.match(await call(c.master.port, { command: 'register_chunk_server', address: liar.address }), { status: 'ok' });
  const beats = setInterval(() => void beat().catch(() => undefined), 200);
  t.teardown(() => clearInterval(beats));
  // It claims to hold the chunk, first, as a primary's update would put it.
  const claim = () => call(c.master.port, { command: 'update_file_metadata', file_path: '/f.bin', chunk_id: chunkId, chunk_locations: [liar.address, c.servers[0]!.address], chunk_size: SIZE });
  t.match(await claim(), { status: 'ok' });
  t.same(await locations(c.master.port, '/f.bin', chunkId), [liar.address, c.servers[0]!.address], 'the liar is the first holder a reader is sent to');

  const out = join(c.base, 'out');
  await mkdir(out);

  t.test('the get takes the honest copy and reports the liar', async (t) => {
    const r = await c.gfs(['get', '/f.bin', join(out, 'f.bin')]);
    t.equal(r.code, 0, r.stderr);
    t.ok((await readFile(join(out, 'f.bin'))).equals(data), 'the bytes are the ones put');
    t.ok(liar.commands().includes('retrieve_chunk'), 'the liar was asked first');
    t.same(await locations(c.master.port, '/f.bin', chunkId), [c.servers[0]!.address], 'the master no longer sends readers to the liar');
  });

  t.test('no honest holder left: exit 1, nothing written', async (t) => {
    t.match(await claim(), { status: 'ok' });
    const honest = c.servers[0]!;
    honest.proc.kill('SIGTERM');
    await honest.exited;
    const before = await readdir(out);
    const r = await c.gfs(['--timeout', '5', 'get', '/f.bin', join(out, 'g.bin')]);
    t.equal(r.code, 1);
    t.match(r.stderr, new RegExp(`^gfs: chunk ${chunkId} could not be read from any holder \\(${liar.address}: bytes fail the chunk's check; ${honest.address}: .*\\)\\n$`));
    t.same(await readdir(out), before, 'neither the target nor a temp file is left');
    const cat = await c.gfs(['--timeout', '5', 'cat', '/f.bin']);
    t.equal(cat.code, 1);
    t.equal(cat.stdout.length, 0, 'cat wrote none of the wrong bytes');
  });
});

t.test('an appended chunk is checked against the digest the master hands out', async (t) => {
  const c = await startCluster(t, { servers: 1 });
  const first = bytes(SIZE, 8);
  const more = bytes(40_000, 9);
  await writeFile(join(c.base, 'first'), first);
  await writeFile(join(c.base, 'more'), more);
  t.equal((await c.gfs(['put', join(c.base, 'first'), '/a.bin'])).code, 0);
  t.equal((await c.gfs(['append', '/a.bin', join(c.base, 'more')])).code, 0);
  const stat = JSON.parse((await c.gfs(['--json', 'stat', '/a.bin'])).stdout.toString());
  t.same(stat.chunks.map((ch: { size: number }) => ch.size), [SIZE + more.length], 'one chunk, grown: its id is no longer the hash of its bytes');
  const chunkId = stat.chunks[0].chunk_id as string;
  const grown = SIZE + more.length;
  // The liar serves the original bytes and then wrong ones: right length, right prefix.
  const liar = await scriptedPeer(t, (msg) => (msg.command === 'retrieve_chunk' ? { status: 'ok', data: Buffer.concat([first, Buffer.alloc(more.length)]) } : { status: 'ok' }));
  t.match(await call(c.master.port, { command: 'register_chunk_server', address: liar.address }), { status: 'ok' });
  const beats = setInterval(() => void call(c.master.port, { command: 'heartbeat', address: liar.address }).catch(() => undefined), 200);
  t.teardown(() => clearInterval(beats));
  t.match(await call(c.master.port, { command: 'update_file_metadata', file_path: '/a.bin', chunk_id: chunkId, chunk_locations: [liar.address, c.servers[0]!.address], chunk_size: grown }), { status: 'ok' });
  t.same(await locations(c.master.port, '/a.bin', chunkId), [liar.address, c.servers[0]!.address]);

  const r = await c.gfs(['get', '/a.bin', join(c.base, 'a.out')]);
  t.equal(r.code, 0, r.stderr);
  t.ok((await readFile(join(c.base, 'a.out'))).equals(Buffer.concat([first, more])), 'the honest holder gave the bytes');
  t.ok(liar.commands().includes('retrieve_chunk'), 'the liar was asked first');
  t.same(await locations(c.master.port, '/a.bin', chunkId), [c.servers[0]!.address], 'and reported');
});
