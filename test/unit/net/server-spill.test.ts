// listen() with large values spilled to disk: a client is read only as fast as its values are
// stored, and commands that take bytes in memory get the spilled values read back.
import { readdir } from 'node:fs/promises';
import { pino } from 'pino';
import t from 'tap';
import { Cluster } from '../../../src/chunk-server/cluster/replication.js';
import { Rpc } from '../../../src/net/rpc.js';
import type { HandlerContext } from '../../../src/chunk-server/commands/context.js';
import { chunkServerCommands } from '../../../src/chunk-server/commands/index.js';
import { listen } from '../../../src/net/server.js';
import { ChunkStore } from '../../../src/storage/index.js';
import { BufferPool } from '../../../src/wire/buffer-pool.js';
import type { SpilledBin } from '../../../src/wire/payload.js';
import { charge } from '../../../src/storage/index.js';
import { bytes, MIB } from '../../support/data.js';
import { call, Client, frame } from '../../support/frames.js';
import { tempDir } from '../../support/temp.js';
import { waitUntil } from '../../support/waits.js';

const KIB = 1024;

async function temps(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.startsWith('.store-'));
}

/** A spill target whose disk is stuck until the test frees it. */
class StuckTarget {
  received = 0;
  private stuck = true;
  private waiters: Array<() => void> = [];
  get backlogBytes(): number {
    return this.stuck ? this.received : 0;
  }
  write(piece: Buffer): void {
    this.received += piece.length;
  }
  drained(): Promise<void> {
    return this.stuck ? new Promise((resolve) => this.waiters.push(resolve)) : Promise.resolve();
  }
  unstick(): void {
    this.stuck = false;
    for (const w of this.waiters.splice(0)) w();
  }
  async finish(): Promise<SpilledBin> {
    return { kind: 'spilled', size: this.received, fileBody: () => ({ kind: 'file', size: 0, pipe: async () => undefined, close: async () => undefined }) };
  }
  async discard(): Promise<void> {}
}

t.test('a client sending faster than the disk writes is read only as fast as it is stored', async (t) => {
  const dir = await tempDir(t);
  const { store } = await ChunkStore.open(dir, 64 * MIB);
  t.teardown(() => store.close());
  const targets: StuckTarget[] = [];
  const log = pino({ level: 'silent' });
  const server = await listen({
    ...listenOptions(store, new BufferPool(8 * MIB)),
    stream: { spill: { open: () => (targets.push(new StuckTarget()), targets.at(-1)!) }, minFrameBytes: MIB },
  });
  t.teardown(() => server.close(0));
  const c = await Client.connect(server.port, t);
  c.write(frame({ command: 'no_such_thing', data: bytes(32 * MIB) }));
  // Past the 4 MiB backlog, then a round trip on another connection: the server had every
  // chance to read on, had it not paused this socket.
  await waitUntil('the backlog limit reached', async () => (targets[0]?.received ?? 0) > 4 * MIB, 60_000);
  t.same(await call(server.port, { command: 'check_space', size: 1 }), { status: 'ok' });
  const target = targets[0]!;
  t.ok(target.received > 0 && target.received < 6 * MIB, `reading paused at the backlog limit (${(target.received / MIB).toFixed(1)} MiB of 32 read)`);
  target.unstick();
  t.same(await c.next(), { status: 'error', message: 'unknown_command: no_such_thing' });
  t.equal(target.received, 32 * MIB);
});

t.test('commands that only take bytes in memory get spilled values read back', async (t) => {
  const dir = await tempDir(t);
  const { store } = await ChunkStore.open(dir, 400 * KIB);
  t.teardown(() => store.close());
  const pool = new BufferPool(8 * MIB);
  const log = pino({ level: 'silent' });
  const asked: unknown[] = [];
  const server = await listen({
    ...listenOptions(store, pool),
    stream: { spill: store.spillProvider(pool), minFrameBytes: 64 * KIB },
    takesSpilled: (command) => (asked.push(command), false),
  });
  t.teardown(() => server.close(0));
  const data = bytes(300 * KIB, 8);
  t.match(await call(server.port, { command: 'store_chunk', data, chunk_id: 'mem' }), { status: 'ok', chunk_id: 'mem', replicas: 0 }, 'fits: the temp was released before the store reserved');
  t.same(asked, ['store_chunk']);
  t.ok(Buffer.from((await call(server.port, { command: 'retrieve_chunk', chunk_id: 'mem' })).data).equals(data));
  t.same(await temps(dir), []);
  t.equal(store.space.used, charge(data.length));
});

/** listen() options for a standalone chunk server over `store`, as chunk-server.ts wires them. */
function listenOptions(store: ChunkStore, pool: BufferPool) {
  const log = pino({ level: 'silent' });
  const rpc = new Rpc({ connectTimeoutMs: 1000, requestTimeoutMs: 1000, maxPerPeer: 1, maxReplyBytes: MIB });
  const cluster = new Cluster({ address: '127.0.0.1:0', replicationFactor: 1, master: null, rpc, controlTimeoutMs: 1000, dataTimeoutMs: 1000, log });
  const ctx: HandlerContext = { store, log, txlog: log, pool, cluster };
  return {
    host: '127.0.0.1',
    port: 0,
    limits: { maxFrameBytes: 64 * MIB, idleTimeoutMs: 60_000, frameTimeoutMs: 60_000 },
    maxConnections: 100,
    dispatch: (decoded: unknown) => chunkServerCommands.dispatch(decoded, ctx),
    pool,
    stream: null,
    takesSpilled: chunkServerCommands.takesSpilled,
    log,
  };
}
