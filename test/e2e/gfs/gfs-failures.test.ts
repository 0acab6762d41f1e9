// The failures a user meets: a full cluster, chunks damaged on some or every holder, every
// holder down. Each is one line on stderr and exit 1, and never a half-written local file.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { chunkPath, startCluster } from '../../support/cluster.js';
import { bytes, flipByte } from '../../support/data.js';

const CHUNK = 200_000;

t.test('failures through bin/gfs', async (t) => {
  // 2 MiB per server: room for what the tests store, not for a 3 MB chunk.
  const c = await startCluster(t, { spaceMb: 2 });
  const gfs = (args: string[]) => c.gfs(['--chunk_size', String(CHUNK), ...args]);
  const out = join(c.base, 'out');
  const put = async (name: string, seed: number): Promise<{ data: Buffer; ids: string[] }> => {
    const data = bytes(CHUNK + 150_000, seed);
    await writeFile(join(c.base, name), data);
    const r = await gfs(['put', join(c.base, name), `/${name}`]);
    t.equal(r.code, 0, r.stderr);
    const stat = JSON.parse((await gfs(['--json', 'stat', `/${name}`])).stdout.toString());
    return { data, ids: stat.chunks.map((ch: { chunk_id: string }) => ch.chunk_id) };
  };
  const listing = () => readdir(out).then((names) => names.sort());
  await import('node:fs/promises').then((fs) => fs.mkdir(out));

  t.test('a full cluster', async (t) => {
    await writeFile(join(c.base, 'big'), bytes(3_000_000, 2));
    const r = await c.gfs(['--chunk_size', '3000000', 'put', join(c.base, 'big'), '/big']);
    t.equal(r.code, 1);
    t.equal(r.stderr, 'gfs: cluster full: no server has room for chunk 0 (3000000 bytes)\n');
    const ls = await gfs(['--json', 'ls']);
    t.same(JSON.parse(ls.stdout.toString()).files, [], 'no file was recorded');
  });

  t.test('a chunk damaged on two holders of three is read from the third', async (t) => {
    const { data, ids } = await put('some.bin', 3);
    for (const s of c.servers.slice(0, 2)) await flipByte(chunkPath(s, ids[0]!), 1000);
    const r = await gfs(['get', '/some.bin', join(out, 'some.bin')]);
    t.equal(r.code, 0, r.stderr);
    t.ok((await readFile(join(out, 'some.bin'))).equals(data), 'byte-exact from the healthy holder');
  });

  t.test('a chunk damaged on every holder', async (t) => {
    const { ids } = await put('all.bin', 4);
    for (const s of c.servers) await flipByte(chunkPath(s, ids[1]!), 5);
    const before = await listing();
    const r = await gfs(['get', '/all.bin', join(out, 'all.bin')]);
    t.equal(r.code, 1);
    t.match(r.stderr, new RegExp(`^gfs: chunk ${ids[1]} failed verification on every holder \\(.*corrupt_chunk.*\\)\\n$`));
    t.same(await listing(), before, 'neither the target nor a temp file is left');
    const cat = await gfs(['cat', '/all.bin']);
    t.equal(cat.code, 1);
    t.equal(cat.stdout.length, CHUNK, 'cat wrote the good first chunk, then stopped');
  });

  t.test('a dead server: put goes to the others, get reads from them', async (t) => {
    const dead = c.servers[0]!;
    dead.proc.kill('SIGKILL');
    await dead.exited;
    // Whether or not the master has noticed yet, the upload must land on the live two.
    const data = bytes(3 * CHUNK, 6);
    await writeFile(join(c.base, 'alive.bin'), data);
    const r = await gfs(['put', join(c.base, 'alive.bin'), '/alive.bin']);
    t.equal(r.code, 0, r.stderr);
    const got = await gfs(['get', '/alive.bin', join(out, 'alive.bin')]);
    t.equal(got.code, 0, got.stderr);
    t.ok((await readFile(join(out, 'alive.bin'))).equals(data), 'byte-exact');
  });

  t.test('every holder down', async (t) => {
    const { ids } = await put('down.bin', 5);
    await Promise.all(
      c.servers.map((s) => {
        s.proc.kill('SIGKILL');
        return s.exited;
      }),
    );
    const before = await listing();
    const r = await gfs(['get', '/down.bin', join(out, 'down.bin')]);
    t.equal(r.code, 1);
    t.match(r.stderr, new RegExp(`^gfs: chunk ${ids[0]} could not be read from any holder \\(.*connection refused.*\\)\\n$`));
    t.same(await listing(), before, 'neither the target nor a temp file is left');
    const json = JSON.parse((await gfs(['--json', 'get', '/down.bin', join(out, 'down.bin')])).stdout.toString());
    t.equal(json.code, 'chunk_unavailable');
  });
});
