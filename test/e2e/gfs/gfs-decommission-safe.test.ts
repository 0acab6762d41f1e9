// Issue 25 item 4, safe decommission: refused with why when the rest cannot hold the factor,
// unless --force; gfs servers shows the chunks left; gfs stat names the holder being emptied.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { startCluster } from '../../support/cluster.js';
import { bytes } from '../../support/data.js';
import { waitFor } from '../../support/waits.js';

t.test('decommission on three servers at factor 3, then with a fourth', async (t) => {
  const c = await startCluster(t, { servers: 3 });
  const gfs = (args: string[]) => c.gfs(['--chunk_size', '200000', ...args]);
  const json = async (args: string[]) => JSON.parse((await gfs(['--json', ...args])).stdout.toString());
  await writeFile(join(c.base, 'd.bin'), bytes(450_000, 41));
  t.equal((await gfs(['put', join(c.base, 'd.bin'), '/d.bin'])).code, 0);
  const victim = c.servers[0]!.address;

  const refused = await gfs(['decommission', victim]);
  t.equal(refused.code, 1, 'refused');
  t.equal(refused.stderr, `gfs: not decommissioning ${victim}: 2 other live servers cannot hold replication_factor 3, so it could never finish (force it with --force)\n`);
  t.match(await json(['decommission', victim]), { status: 'error', code: 'decommission_refused' });
  t.same((await json(['servers'])).servers.map((s: { state: string }) => s.state), ['live', 'live', 'live'], 'nothing changed');

  const forced = await json(['decommission', '--force', victim]);
  t.same(forced, { status: 'ok', decommissioning: victim, chunks_left: 3, eta_s: null }, 'accepted, and not read as done: three chunks still need it');
  const stat = await gfs(['stat', '/d.bin']);
  t.match(stat.stdout.toString(), `${victim} (decommissioning)`, 'stat names the holder being emptied');
  const holders = (await json(['stat', '/d.bin'])).chunks[0].holders as Array<{ address: string }>;
  t.match(holders.find((h) => h.address === victim), { state: 'decommissioning', live: true });
  const row = (await json(['servers'])).servers.find((s: { address: string }) => s.address === victim);
  t.match(row, { state: 'decommissioning', decommission: { chunks_left: 3, eta_s: null } });
  t.match((await gfs(['servers'])).stdout.toString(), /decommissioning \(3 chunks left, ETA --\)/);

  await c.start('s4');
  await waitFor(
    'the fourth server to take the chunks the victim held',
    async () => ((await json(['servers'])).servers.find((s: { address: string }) => s.address === victim)?.decommission?.chunks_left === 0 ? true : undefined),
    90_000,
    250,
  );
  t.match((await gfs(['servers'])).stdout.toString(), /decommissioning \(done: can be stopped\)/);
});
