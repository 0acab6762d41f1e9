// Large stores stream their data to a staged temp file while the frame arrives; these tests
// drive a real server through real sockets and look at the real chunk directory.
import { readdir, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Packr, Unpackr } from 'msgpackr';
import t from 'tap';
import { Cluster } from '../../../../src/chunk-server/cluster/replication.js';
import { Rpc } from '../../../../src/net/rpc.js';
import { resolveConfig } from '../../../../src/config/chunk-server.js';
import type { HandlerContext } from '../../../../src/chunk-server/commands/context.js';
import { chunkServerCommands } from '../../../../src/chunk-server/commands/index.js';
import { listen } from '../../../../src/net/server.js';
import { ChunkStore } from '../../../../src/storage/index.js';
import { BufferPool } from '../../../../src/wire/buffer-pool.js';
import { encodeFrame } from '../../../../src/wire/codec.js';
import type { FileBody, SpilledBin } from '../../../../src/wire/payload.js';
import { charge, largestFitting } from '../../../../src/storage/index.js';
import { bytes, MIB } from '../../../support/data.js';
import { call, Client, frame, lengthPrefixed } from '../../../support/frames.js';
import { startServer } from '../../../support/in-process.js';
import { tempDir } from '../../../support/temp.js';
import { waitUntil } from '../../../support/waits.js';

const KIB = 1024;
const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ int64AsType: 'number', mapsAsObjects: true, useRecords: false });
// 64 KiB: frames from this size stream, and bins from 64 KiB spill (the decoder's default).
const STREAMING = { streamThresholdMb: 1 / 16 };

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

async function temps(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.startsWith('.store-'));
}

/** Data first, as the reference client sends it. */
function storeFrame(chunkId: string, data: Buffer, extra: Record<string, unknown> = {}): Buffer {
  return frame({ command: 'store_chunk', data, chunk_id: chunkId, file_path: '/f', ...extra });
}

t.test('a large store is on disk before its frame ends, whatever the split, and reads back exactly', async (t) => {
  const server = await startServer(t, STREAMING);
  const data = bytes(300 * KIB, 1);
  const f = storeFrame('chunk-a', data);
  const c = await Client.connect(server.port, t);
  c.socket.setNoDelay(true);
  // Head and the first payload bytes one byte per write, then uneven pieces, all but the last byte.
  let pos = 0;
  for (; pos < 200; pos++) {
    c.write(f.subarray(pos, pos + 1));
    await tick();
  }
  for (; pos < f.length - 1; pos += 4093) c.write(f.subarray(pos, Math.min(pos + 4093, f.length - 1)));
  await waitUntil('the payload to be in the staged file', async () => {
    const [temp] = await temps(server.store.dir);
    return temp !== undefined && (await stat(join(server.store.dir, temp))).size === data.length;
  });
  t.equal(server.store.space.used, charge(data.length), 'the staged bytes are reserved');
  c.write(f.subarray(f.length - 1));
  t.match(await c.next(), { status: 'ok', chunk_id: 'chunk-a', replicas: 0 });
  const got = await call(server.port, { command: 'retrieve_chunk', chunk_id: 'chunk-a' });
  t.ok(Buffer.from(got.data).equals(data), 'byte-exact');
  t.same(await temps(server.store.dir), [], 'no temp left');
  t.equal(server.store.space.used, charge(data.length));
});

t.test('insufficient space: the payload is read and dropped, the error replied, the connection kept', async (t) => {
  const server = await startServer(t, { ...STREAMING, spaceMb: 0.25 });
  const c = await Client.connect(server.port, t);
  c.write(storeFrame('big', bytes(300 * KIB)));
  t.same(await c.next(), { status: 'error', message: 'insufficient_space', available_space: 256 * KIB });
  t.same(await c.call({ command: 'check_space', size: 1 }), { status: 'ok' }, 'same connection still served');
  t.same(await temps(server.store.dir), []);
  t.equal(server.store.space.used, 0);
});

t.test('a request that does not keep its data releases the reservation and the temp before replying', async (t) => {
  const server = await startServer(t, STREAMING);
  const data = bytes(200 * KIB);
  const c = await Client.connect(server.port, t);
  t.same(await c.call({ command: 'store_chunk', data, chunk_id: '../escape', file_path: '/f' }), { status: 'error', message: 'invalid_chunk_id' });
  t.equal(server.store.space.used, 0);
  t.same(await temps(server.store.dir), []);
  t.same(await c.call({ command: 'no_such_thing', data }), { status: 'error', message: 'unknown_command: no_such_thing' });
  t.match(await c.call({ command: 'store_chunk', data: Buffer.from(data), chunk_id: 'kept' }), { status: 'ok', chunk_id: 'kept', replicas: 0 });
  t.equal(server.store.space.used, charge(data.length));
  t.same(await temps(server.store.dir), []);
});

t.test('malformed and refused large frames: one closes like any undecodable body, the other is answered', async (t) => {
  const server = await startServer(t, STREAMING);
  const payload = bytes(100 * KIB);
  const dupHead = Buffer.concat([Buffer.from([0x82]), packr.pack('data'), packr.pack(payload), packr.pack('data'), packr.pack(1)]);
  const c = await Client.connect(server.port, t);
  c.write(lengthPrefixed(dupHead));
  t.same(await c.next(), { status: 'error', message: 'bad_request: duplicate field data' });
  t.same(await c.call({ command: 'check_space', size: 1 }), { status: 'ok' });

  const trailing = Buffer.concat([Buffer.from([0x81]), packr.pack('data'), packr.pack(payload), Buffer.from([0xc0])]);
  c.write(lengthPrefixed(trailing));
  t.same(await c.next(), { status: 'error', message: 'bad_request: undecodable body' });
  await c.closed();
  await waitUntil('the temp to go', async () => (await temps(server.store.dir)).length === 0);
  t.equal(server.store.space.used, 0);
});

t.test('large frames queued behind a fatal one give back their temp and reservation', async (t) => {
  const server = await startServer(t, STREAMING);
  const data = bytes(300 * KIB, 7);
  const malformed = Buffer.concat([Buffer.from([0x81]), packr.pack('data'), packr.pack(bytes(100 * KIB)), Buffer.from([0xc0])]);
  const c = await Client.connect(server.port, t);
  // While the first store is being installed, the next two frames arrive and queue up.
  c.write(Buffer.concat([storeFrame('first', data), lengthPrefixed(malformed), storeFrame('third', data)]));
  t.match(await c.next(), { status: 'ok', chunk_id: 'first', replicas: 0 });
  t.same(await c.next(), { status: 'error', message: 'bad_request: undecodable body' });
  await c.closed();
  await waitUntil('queued temps to go', async () => (await temps(server.store.dir)).length === 0);
  t.equal(server.store.space.used, charge(data.length), 'only the stored chunk holds space');
});

t.test('a client closing mid-frame leaves no temp file and no reservation', async (t) => {
  const server = await startServer(t, STREAMING);
  const f = storeFrame('half', bytes(300 * KIB));
  const c = await Client.connect(server.port, t);
  c.write(f.subarray(0, 150 * KIB));
  await waitUntil('a staged temp', async () => (await temps(server.store.dir)).length === 1);
  const used = server.store.space.used;
  t.ok(used > 0 && used <= charge(150 * KIB), `space is reserved as the bytes arrive (${used}), not for the declared length (issue 14)`);
  c.close();
  await waitUntil('the temp to go', async () => (await temps(server.store.dir)).length === 0);
  t.equal(server.store.space.used, 0, 'reservation released');
});

t.test('pipelined large stores and an overwrite: replies in order, space counts the final sizes', async (t) => {
  const server = await startServer(t, STREAMING);
  const a = bytes(300 * KIB, 2);
  const b = bytes(200 * KIB, 3);
  const c = await Client.connect(server.port, t);
  c.write(Buffer.concat([storeFrame('x', a), storeFrame('y', a), storeFrame('x', b)]));
  t.match(await c.next(), { status: 'ok', chunk_id: 'x', replicas: 0 });
  t.match(await c.next(), { status: 'ok', chunk_id: 'y', replicas: 0 });
  t.match(await c.next(), { status: 'ok', chunk_id: 'x', replicas: 0 });
  t.equal(server.store.space.used, charge(a.length) + charge(b.length));
  t.ok(Buffer.from((await c.call({ command: 'retrieve_chunk', chunk_id: 'x' })).data).equals(b));
  t.same(await temps(server.store.dir), []);
});

t.test('a client that stops reading mid-reply holds neither memory nor other clients', async (t) => {
  const server = await startServer(t, STREAMING);
  const data = bytes(8 * MIB, 4);
  t.match(await call(server.port, { command: 'store_chunk', data, chunk_id: 'big' }), { status: 'ok', chunk_id: 'big', replicas: 0 });
  const before = process.memoryUsage().arrayBuffers;
  const stuck = await Client.connect(server.port, t);
  stuck.socket.pause();
  const ask = frame({ command: 'retrieve_chunk', chunk_id: 'big' });
  for (let i = 0; i < 16; i++) stuck.write(ask);
  const chunkPath = join(server.store.dir, 'big');
  const openOnChunk = async (): Promise<number> => {
    let n = 0;
    for (const fd of await readdir('/proc/self/fd')) if ((await readlink(`/proc/self/fd/${fd}`).catch(() => '')) === chunkPath) n++;
    return n;
  };
  await waitUntil('the stuck reply under way', async () => (await openOnChunk()) === 1, 60_000);
  const other = await Client.connect(server.port, t);
  t.same(await other.call({ command: 'store_chunk', data: Buffer.from('hi'), chunk_id: 'small' }), { status: 'ok', chunk_id: 'small', replicas: 0, version: 1 });
  t.ok(Buffer.from((await other.call({ command: 'retrieve_chunk', chunk_id: 'big' })).data).equals(data), 'others still served in full');
  const grown = process.memoryUsage().arrayBuffers - before;
  t.ok(grown < 48 * MIB, `server memory stays bounded (grew ${(grown / MIB).toFixed(1)} MiB for 128 MiB of unread replies)`);
  t.equal(await openOnChunk(), 1, 'one reply in progress holds the file open');
  stuck.close();
  await waitUntil('the stuck reply to let go of the file', async () => (await openOnChunk()) === 0);
});

t.test('a staged value forwards as a file piece, before and after it is installed', async (t) => {
  const dir = await tempDir(t);
  const { store } = await ChunkStore.open(dir, 16 * MIB);
  t.teardown(() => store.close());
  const pool = new BufferPool(8 * MIB);
  const data = bytes(3 * MIB + 17, 6);
  const staged = store.spillProvider(pool).open(data.length);
  for (let i = 0; i < data.length; i += 65536) staged.write(data.subarray(i, i + 65536));
  t.ok(staged.backlogBytes > 0, 'writes queue while the disk catches up');
  await staged.drained(0);
  t.equal(staged.backlogBytes, 0);
  const value = await staged.finish();

  const forwarded = async (): Promise<unknown> => {
    const parts: Buffer[] = [];
    for (const piece of encodeFrame({ command: 'store_chunk', chunk_id: 'f', data: value })) {
      if (Buffer.isBuffer(piece)) parts.push(piece);
      else {
        await (piece as FileBody).pipe(async (block) => void parts.push(Buffer.from(block)));
        await (piece as FileBody).close();
      }
    }
    const all = Buffer.concat(parts);
    t.equal(all.readUInt32BE(0), all.length - 4);
    return unpackr.unpack(all.subarray(4));
  };
  t.same(await forwarded(), { command: 'store_chunk', chunk_id: 'f', data });
  await store.write('f', value);
  t.same(await forwarded(), { command: 'store_chunk', chunk_id: 'f', data }, 'still readable after the rename');
  await staged.discard();
  t.equal(store.space.used, charge(data.length), 'installed: the chunk keeps the space');
  t.same(await temps(dir), []);
  t.equal((await stat(join(dir, 'f'))).size, data.length);

  const dropped = store.spillProvider(pool).open(1000);
  dropped.write(Buffer.alloc(1000));
  await dropped.finish();
  await dropped.discard();
  await dropped.discard();
  t.equal(store.space.used, charge(data.length), 'discarded: its reservation is released once');
  t.same(await temps(dir), []);
});

t.test('stream_threshold_mb is read from the config file and must be positive', async (t) => {
  t.equal(resolveConfig({}, {}).streamThresholdMb, 1);
  t.equal(resolveConfig({ chunk_server: { stream_threshold_mb: 4 } }, {}).streamThresholdMb, 4);
  t.throws(() => resolveConfig({ chunk_server: { stream_threshold_mb: 0 } }, {}), { message: /stream_threshold_mb must be a positive number of MiB/ });
});
