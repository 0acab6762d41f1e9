import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { charge } from '../../../src/storage/index.js';
import { encodeBody } from '../../../src/wire/codec.js';
import { writeToml } from '../../support/configs.js';
import { bytes, MIB } from '../../support/data.js';
import { call, Client } from '../../support/frames.js';
import { spawnServer } from '../../support/processes.js';
import { tempDir } from '../../support/temp.js';

// Issue 22 item 5: 20 clients storing 5 MiB each at once into a 64 MiB server got 8-12
// successes where 12 fit, because a store short of room failed at once while the stores
// holding room then failed too and gave it back.
const CLIENTS = 20;
const CHUNK_BYTES = 5 * MIB;
const ROUNDS = 10;

/** What the server has free, as it reports it when refusing a chunk larger than its limit. */
async function available(port: number): Promise<number> {
  const r = await call(port, { command: 'check_space', size: 65 * MIB });
  if (r.status !== 'error' || typeof r.available_space !== 'number') throw new Error(`check_space: ${JSON.stringify(r)}`);
  return r.available_space;
}

t.test('concurrent stores near the limit succeed exactly as far as they fit', async (t) => {
  const dir = await tempDir(t);
  const server = await spawnServer(t, ['--server_id', 'fair', '--space', '64', '--data_dir', 'data', '--no_master'], dir);
  const free = await available(server.port);
  // Each store is charged as the disk holds it (charges.ts): its blocks and one file's overhead.
  const fit = Math.floor(free / charge(CHUNK_BYTES));
  t.equal(fit, 12, 'the charge rule lets 12 chunks of 5 MiB into 64 MiB');
  const data = bytes(CHUNK_BYTES);
  for (let round = 0; round < ROUNDS; round++) {
    const ids = Array.from({ length: CLIENTS }, (_, i) => `r${round}c${i}`);
    const replies = await Promise.all(ids.map((chunk_id) => call(server.port, { command: 'store_chunk', chunk_id, data })));
    const stored = ids.filter((_, i) => replies[i]!.status === 'ok');
    const refused = replies.filter((r) => r.status === 'error');
    t.equal(stored.length, fit, `round ${round}: ${fit} stores succeed`);
    t.equal(refused.length, CLIENTS - fit, `round ${round}: the other ${CLIENTS - fit} are refused`);
    t.same([...new Set(refused.map((r) => r.message))], refused.length ? ['insufficient_space'] : [], `round ${round}: refused for space`);
    for (const chunk_id of stored) t.match(await call(server.port, { command: 'delete_chunk', chunk_id }), { status: 'ok' });
    t.equal(await available(server.port), free, `round ${round}: every byte given back`);
  }
});

/** A whole store_chunk frame for `data`, to send in parts. */
function storeFrame(chunkId: string, data: Buffer): Buffer {
  const body = encodeBody({ command: 'store_chunk', chunk_id: chunkId, data });
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32BE(body.length);
  return Buffer.concat([prefix, body]);
}

t.test('a stalled sender holds only what it sent, and gives it back at its frame deadline to a waiter', async (t) => {
  const FRAME_TIMEOUT_S = 6;
  const dir = await tempDir(t);
  const config = await writeToml(dir, 'c.toml', `[chunk_server]\nframe_timeout_s = ${FRAME_TIMEOUT_S}\n`);
  const server = await spawnServer(t, ['--config', config, '--data_dir', 'data', '--no_master', '--space', '8'], dir);
  t.match(await call(server.port, { command: 'store_chunk', chunk_id: 'settled', data: bytes(2 * MIB) }), { status: 'ok' });
  const staller = await Client.connect(server.port, t);
  const stalled = storeFrame('stalled', bytes(CHUNK_BYTES, 2));
  staller.write(stalled.subarray(0, stalled.length - MIB));
  const stalledAt = Date.now();
  // A waiter waits frame_timeout_s / 2 from its header; starting it late enough that the
  // staller's frame deadline comes first shows the staller's room going to it.
  await sleep(FRAME_TIMEOUT_S * 750);
  const waiter = call(server.port, { command: 'store_chunk', chunk_id: 'waiter', data: bytes(CHUNK_BYTES, 3) });
  let answeredAt = 0;
  void waiter.then(() => (answeredAt = Date.now()));
  t.match(await staller.next(), { status: 'error', message: /frame timeout/ }, 'the staller is cut off at its frame deadline');
  t.ok(Date.now() - stalledAt >= FRAME_TIMEOUT_S * 1000 - 100, 'not before it');
  t.match(await waiter, { status: 'ok' }, 'the waiter stores with the room the staller gave back');
  t.ok(answeredAt - stalledAt >= FRAME_TIMEOUT_S * 1000 - 100, 'it waited for that room rather than being refused');
});

t.test('a value small enough to arrive whole waits in the same line instead of being refused', async (t) => {
  const FRAME_TIMEOUT_S = 6;
  const SMALL_BYTES = 48 * 1024; // a frame under stream_threshold_mb (1 MiB): the value arrives whole, in memory
  const dir = await tempDir(t);
  const config = await writeToml(dir, 'c.toml', `[chunk_server]\nframe_timeout_s = ${FRAME_TIMEOUT_S}\n`);
  const server = await spawnServer(t, ['--config', config, '--data_dir', 'data', '--no_master', '--space', '8'], dir);
  t.match(await call(server.port, { command: 'store_chunk', chunk_id: 'settled', data: bytes(2 * MIB) }), { status: 'ok' });
  const beside = await available(server.port);
  // The staller's value fits beside the settled bytes; what it sends leaves less free than the small store needs.
  const stalledBytes = beside - charge(0);
  const staller = await Client.connect(server.port, t);
  const stalled = storeFrame('stalled', bytes(stalledBytes, 2));
  const held = 16 * 1024;
  staller.write(stalled.subarray(0, stalled.length - held));
  t.ok(beside - charge(stalledBytes - held) < charge(SMALL_BYTES), 'the staller holds room the small store needs');
  t.ok(charge(SMALL_BYTES) <= beside, 'yet the small store fits if the staller fails');
  const stalledAt = Date.now();
  await sleep(FRAME_TIMEOUT_S * 750);
  const small = await call(server.port, { command: 'store_chunk', chunk_id: 'small', data: bytes(SMALL_BYTES, 3) });
  t.match(small, { status: 'ok' }, 'stored with the room the staller gave back at its deadline');
  t.ok(Date.now() - stalledAt >= FRAME_TIMEOUT_S * 1000 - 100, 'it waited for that room rather than being refused');
  t.match(await staller.next(), { status: 'error', message: /frame timeout/ });
});
