import { join } from 'node:path';
import t, { type Test } from 'tap';
import { DISK_MARGIN_BYTES } from '../../../src/storage/index.js';
import { duBytes } from '../../support/disk-use.js';
import { bytes, MIB } from '../../support/data.js';
import { Client } from '../../support/frames.js';
import { spawnServer } from '../../support/processes.js';
import { tempDir } from '../../support/temp.js';


// Issue 14 item 6: 3,000 one-byte chunks and 2,000 empty prepare_chunk calls put 40 MiB and
// 12,000 files on disk under a 1 MiB limit, because only the bytes were charged.
async function start(t: Test, id: string): Promise<{ c: Client; chunkDir: string }> {
  const dir = await tempDir(t);
  const server = await spawnServer(t, ['--server_id', id, '--space', '1', '--data_dir', 'data', '--no_master'], dir);
  const c = await Client.connect(server.port);
  t.teardown(() => c.close());
  return { c, chunkDir: join(dir, 'data', id) };
}

function withinLimit(t: Test, chunkDir: string): void {
  const used = duBytes(chunkDir);
  t.ok(used <= MIB + DISK_MARGIN_BYTES, `du of the data dir ${used} B is within the 1 MiB limit + ${DISK_MARGIN_BYTES} B margin`);
}

t.test('3,000 one-byte chunks: refused once the disk really holds the limit', async (t) => {
  const { c, chunkDir } = await start(t, 'tiny');
  let stored = 0;
  const refusals = new Set<string>();
  for (let i = 0; i < 3000; i++) {
    const r = await c.call({ command: 'store_chunk', chunk_id: `tiny${i}`, data: bytes(1, i) });
    if (r.status === 'ok') stored++;
    else refusals.add(String(r.message));
  }
  t.ok(stored > 0 && stored < 3000, `some one-byte chunks stored (${stored}), the rest refused`);
  t.same([...refusals], ['insufficient_space'], 'refused for space');
  withinLimit(t, chunkDir);
});

t.test('2,000 empty prepare_chunk calls: refused once the disk really holds the limit', async (t) => {
  const { c, chunkDir } = await start(t, 'prep');
  let prepared = 0;
  const refusals = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const r = await c.call({ command: 'prepare_chunk', chunk_id: `p${i}`, transaction_id: `tx${i}`, data: Buffer.alloc(0) });
    if (r.status === 'ok') prepared++;
    else refusals.add(String(r.message));
  }
  t.ok(prepared > 0 && prepared < 2000, `some empty prepares accepted (${prepared}), the rest refused`);
  t.ok(refusals.size > 0 && [...refusals].every((m) => m === 'insufficient_space' || m === 'too_many_prepared'), `refused as ${[...refusals].join(', ')}`);
  withinLimit(t, chunkDir);
});

t.test('one-byte chunks after empty prepares: the two together stay within the limit', async (t) => {
  const { c, chunkDir } = await start(t, 'both');
  for (let i = 0; i < 1000; i++) await c.call({ command: 'prepare_chunk', chunk_id: `p${i}`, transaction_id: `tx${i}`, data: Buffer.alloc(0) });
  for (let i = 0; i < 1000; i++) await c.call({ command: 'store_chunk', chunk_id: `tiny${i}`, data: bytes(1, i) });
  const r = await c.call({ command: 'store_chunk', chunk_id: 'one-more', data: bytes(1) });
  t.match(r, { status: 'error', message: 'insufficient_space' }, 'the limit is reached');
  withinLimit(t, chunkDir);
});
