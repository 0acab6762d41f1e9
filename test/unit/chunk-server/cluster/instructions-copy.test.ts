// The master's copy instruction (cluster/instructions.ts) sends this server's committed
// copy to a target as a replica store_chunk. It streams the chunk through bounded blocks,
// each checked against its sums before it goes out, never the whole chunk in one buffer
// (issue #21, review bug 4). The target here is a bare socket that keeps what it gets.
import { createServer, type Socket } from 'node:net';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import { InstructionRunner } from '../../../../src/chunk-server/cluster/instructions.js';
import { Rpc } from '../../../../src/net/rpc.js';
import { ChunkStore } from '../../../../src/storage/index.js';
import { decodeBody } from '../../../../src/wire/codec.js';
import { bytes, flipByte, MIB } from '../../../support/data.js';
import { frame } from '../../../support/frames.js';
import { tempDir } from '../../../support/temp.js';

const log = pino({ level: 'silent' });

/** A target that answers ok once a whole frame is in, and keeps each frame's pieces as read (joined later: no large buffer of its own). */
async function target(t: Test): Promise<{ address: string; frames: Buffer[][] }> {
  const frames: Buffer[][] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    const pieces: Buffer[] = [];
    let got = 0;
    socket.on('data', (piece) => {
      pieces.push(piece);
      got += piece.length;
      const head = pieces[0]!;
      if (got >= 4 && got === 4 + head.readUInt32BE(0)) {
        frames.push(pieces);
        socket.end(frame({ status: 'ok' }));
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  const port = (server.address() as { port: number }).port;
  return { address: `127.0.0.1:${port}`, frames };
}

/** The largest Buffer the process allocates while `work` runs. */
async function largestAllocation(work: () => Promise<void>): Promise<number> {
  const saved = { alloc: Buffer.alloc, allocUnsafe: Buffer.allocUnsafe, allocUnsafeSlow: Buffer.allocUnsafeSlow };
  let largest = 0;
  const spy = <F extends (size: number, ...rest: any[]) => Buffer>(f: F): F =>
    ((size: number, ...rest: any[]) => ((largest = Math.max(largest, size)), f.call(Buffer, size, ...rest))) as F;
  Buffer.alloc = spy(saved.alloc);
  Buffer.allocUnsafe = spy(saved.allocUnsafe);
  Buffer.allocUnsafeSlow = spy(saved.allocUnsafeSlow);
  try {
    await work();
  } finally {
    Object.assign(Buffer, saved);
  }
  return largest;
}

async function setUp(t: Test) {
  const dir = await tempDir(t);
  const { store } = await ChunkStore.open(dir, 64 * MIB);
  t.teardown(() => store.close());
  const rpc = new Rpc({ connectTimeoutMs: 2000, requestTimeoutMs: 20_000, maxPerPeer: 2, maxReplyBytes: MIB });
  const runner = new InstructionRunner({ store, rpc, dataTimeoutMs: 20_000, parallel: 1, log });
  return { dir, store, runner };
}

t.test('a copy streams the chunk in bounded blocks and the target gets every byte', async (t) => {
  const { store, runner } = await setUp(t);
  const data = bytes(8 * MIB, 4);
  await store.write('c1', data, 5);
  const to = await target(t);
  const largest = await largestAllocation(async () => {
    runner.accept([{ op: 'copy', chunk_id: 'c1', target: to.address, version: 5 }]);
    await runner.stop();
  });
  t.same(runner.takeFailed(), [], 'the copy succeeded');
  t.ok(largest <= 2 * MIB, `no buffer near the chunk's size (largest ${largest} bytes)`);
  t.equal(to.frames.length, 1);
  const sent = decodeBody(Buffer.concat(to.frames[0]!).subarray(4)) as Record<string, unknown>;
  t.match(sent, { command: 'store_chunk', chunk_id: 'c1', replica_servers: true, version: 5 });
  t.ok(Buffer.from(sent.data as Uint8Array).equals(data), 'byte-exact');
});

t.test('a copy whose bytes fail their sums is cut short and handed back', async (t) => {
  const { dir, store, runner } = await setUp(t);
  await store.write('c2', bytes(4 * MIB, 6));
  await flipByte(`${dir}/c2`, 3 * MIB + 17);
  const to = await target(t);
  runner.accept([{ op: 'copy', chunk_id: 'c2', target: to.address, version: 0 }]);
  await runner.stop();
  t.same(runner.takeFailed(), [{ chunk_id: 'c2', target: to.address }], 'failed, for the next heartbeat');
  t.same(to.frames, [], 'the target never got a whole frame');
});
