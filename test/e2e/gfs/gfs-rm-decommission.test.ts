// gfs rm and gfs decommission against the master's delete_file and decommission_server
// (issue 11, replies as agreed in INTERFACES.md). These need a master that has both commands.
import { access, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { chunkPath, startCluster } from '../../support/cluster.js';
import { bytes } from '../../support/data.js';
import { waitFor } from '../../support/waits.js';

const exists = (p: string): Promise<boolean> => access(p).then(() => true, () => false);

t.test('rm and decommission', async (t) => {
  const c = await startCluster(t, { servers: 4 });
  const gfs = (args: string[], o?: Parameters<typeof c.gfs>[1]) => c.gfs(['--chunk_size', '200000', ...args], o);
  const stat = async (remote: string) => JSON.parse((await gfs(['--json', 'stat', remote])).stdout.toString());

  t.test('rm removes the file and, through the master, its chunks', async (t) => {
    await writeFile(join(c.base, 'r.bin'), bytes(450_000, 31));
    t.equal((await gfs(['put', join(c.base, 'r.bin'), '/r.bin'])).code, 0);
    const chunks: Array<{ chunk_id: string; holders: Array<{ address: string }> }> = (await stat('/r.bin')).chunks;
    const rm = await gfs(['--json', 'rm', '/r.bin']);
    t.equal(rm.code, 0, rm.stderr);
    t.same(JSON.parse(rm.stdout.toString()), { status: 'ok', removed: '/r.bin' });
    t.same(JSON.parse((await gfs(['--json', 'ls'])).stdout.toString()).files, [], 'gone from ls');
    const get = await gfs(['get', '/r.bin', join(c.base, 'r.out')]);
    t.equal(get.code, 1);
    t.equal(get.stderr, 'gfs: no such file: /r.bin\n');
    const again = await gfs(['rm', '/r.bin']);
    t.equal(again.code, 1);
    t.equal(again.stderr, 'gfs: no such file: /r.bin\n');
    const files = chunks.flatMap((ch) => ch.holders.map((h) => chunkPath(c.servers.find((s) => s.address === h.address)!, ch.chunk_id)));
    await waitFor('the chunk files to be deleted', async () => ((await Promise.all(files.map(exists))).some(Boolean) ? undefined : true), 30_000);
    t.pass('every copy of every chunk was deleted from the servers');
  });

  t.test('decommission moves a server\'s chunks to the others', async (t) => {
    const data = bytes(450_000, 32);
    await writeFile(join(c.base, 'd.bin'), data);
    t.equal((await gfs(['put', join(c.base, 'd.bin'), '/d.bin'])).code, 0);
    const victim = (await stat('/d.bin')).chunks[0].holders[0].address as string;
    const r = await gfs(['decommission', victim]);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout.toString(), new RegExp(`^decommissioning ${victim}, [1-3] chunks? to copy: the master is moving its chunks to other servers \\(gfs servers shows how far it is\\)\n$`));
    await waitFor(
      'every chunk on three servers other than the decommissioned one',
      async () => {
        const s = await stat('/d.bin');
        return s.chunks.every((ch: { holders: Array<{ address: string }> }) => ch.holders.length >= 3 && ch.holders.every((h) => h.address !== victim)) ? true : undefined;
      },
      60_000,
      250,
    );
    t.pass('no chunk is held by the decommissioned server');
    const back = await gfs(['cat', '/d.bin']);
    t.ok(back.stdout.equals(data), 'the file still reads whole');

    const unknown = await gfs(['decommission', '127.0.0.1:1']);
    t.equal(unknown.code, 1);
    t.equal(unknown.stderr, 'gfs: the master knows no chunk server 127.0.0.1:1\n');
  });
});
