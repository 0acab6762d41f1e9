// A corrupt chunk found by a chunk server reaches the master in a heartbeat, and the master
// copies a healthy replica back (real master and chunk server processes).
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { spawnChunk } from '../../support/cluster.js';
import { fileMetadata, waitForServers } from '../../support/cluster-probes.js';
import { chunkToml, masterToml, writeToml } from '../../support/configs.js';
import { bytes } from '../../support/data.js';
import { call } from '../../support/frames.js';
import { spawnMaster } from '../../support/processes.js';
import { tempDir } from '../../support/temp.js';
import { waitFor, logged } from '../../support/waits.js';
import { chunkFile } from '../../support/chunk-files.js';

t.test('flip a byte on a replica: corrupt_chunk, reported in a heartbeat, re-replicated by the master', async (t) => {
  const dir = await tempDir(t);
  const master = await spawnMaster(t, ['--config', await writeToml(dir, 'm.toml', masterToml({ extra: 'replication_factor = 2\n' })), '--port', '0', '--metadata', 'meta.json'], dir);
  const config = await writeToml(dir, 'c.toml', chunkToml({ extra: '[master]\nreplication_factor = 2\n' }));
  const s1 = await spawnChunk(t, dir, { id: 's1', master: master.port, config });
  const s2 = await spawnChunk(t, dir, { id: 's2', master: master.port, config, x: 5 });
  await waitForServers(master.port, [s1.address, s2.address]);

  const data = bytes(300_000, 4);
  t.match(await call(s1.port, { command: 'store_chunk', chunk_id: 'c1', file_path: '/c', chunk_index: 0, data }), { status: 'ok', chunk_id: 'c1', replicas: 1 });
  const onS2 = chunkFile(join(dir, 'data', 's2'), 'c1');
  const bad = await readFile(onS2);
  bad[123_456] ^= 0xff;
  await writeFile(onS2, bad);

  t.same(await call(s2.port, { command: 'retrieve_chunk', chunk_id: 'c1' }), { status: 'error', message: 'corrupt_chunk' });
  t.ok((await readdir(join(dir, 'data', 's2', '.quarantine'))).some((name) => name.endsWith('-c1')), 'the bad copy is in quarantine');

  const healed = await waitFor('a good copy back on s2', async () => {
    const r = await call(s2.port, { command: 'retrieve_chunk', chunk_id: 'c1' });
    return r.status === 'ok' ? (r.data as Buffer) : undefined;
  }, 15_000, 200);
  t.ok(Buffer.from(healed).equals(data), 're-replicated byte-exact from the healthy holder');
  t.ok(await logged(() => master.stdout(), /"chunk_id":"c1"[^\n]*chunk server reported a corrupt chunk/), 'the master logs the corrupt report');
  const meta = await waitFor('both holders listed again', async () => {
    const m = await fileMetadata(master.port, '/c');
    return m && (m.chunk_locations.c1 as string[]).length === 2 ? m : undefined;
  });
  t.same([...(meta.chunk_locations.c1 as string[])].sort(), [s1.address, s2.address].sort());
  t.same(meta.pending_replication, {});
});
