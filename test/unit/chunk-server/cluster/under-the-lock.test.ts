// Decisions about a chunk taken from its state must be taken under its lock (issue #21,
// review bug 2): a master's delete judged "unchanged" while an append was committing
// removed the appended copy, and a primary store that picked its next version while an
// append held the lock reused the append's version for other bytes. Each test starts an
// append whose bytes are larger than a log record: it takes the chunk lock at once and
// commits only after file I/O, so the other step provably runs while the lock is held.
import { pino } from 'pino';
import t, { type Test } from 'tap';
import { InstructionRunner } from '../../../../src/chunk-server/cluster/instructions.js';
import { Cluster } from '../../../../src/chunk-server/cluster/replication.js';
import storeChunk from '../../../../src/chunk-server/commands/store-chunk.js';
import type { HandlerContext } from '../../../../src/chunk-server/commands/context.js';
import { Rpc } from '../../../../src/net/rpc.js';
import { ChunkStore } from '../../../../src/storage/index.js';
import { BufferPool } from '../../../../src/wire/buffer-pool.js';
import { bytes, MIB } from '../../../support/data.js';
import { tempDir } from '../../../support/temp.js';

const log = pino({ level: 'silent' });
const rpc = () => new Rpc({ connectTimeoutMs: 2000, requestTimeoutMs: 5000, maxPerPeer: 4, maxReplyBytes: 1 << 20 });

async function openStore(t: Test): Promise<ChunkStore> {
  const { store } = await ChunkStore.open(await tempDir(t), 64 * MIB);
  t.teardown(() => store.close());
  return store;
}

t.test('a delete judged on the length before an append is not carried out after it', async (t) => {
  const store = await openStore(t);
  await store.write('c1', bytes(1000));
  const runner = new InstructionRunner({ store, rpc: rpc(), dataTimeoutMs: 5000, parallel: 1, log });
  const appended = store.append('c1', bytes(MIB, 2));
  runner.accept([{ op: 'delete', chunk_id: 'c1', length: 1000, digest: null }]);
  await appended;
  await runner.stop();
  t.match(store.summaryOf('c1'), { length: 1000 + MIB }, 'the appended copy is kept');
});

t.test('a delete of an unchanged copy still deletes it', async (t) => {
  const store = await openStore(t);
  await store.write('c1', bytes(1000));
  const runner = new InstructionRunner({ store, rpc: rpc(), dataTimeoutMs: 5000, parallel: 1, log });
  runner.accept([{ op: 'delete', chunk_id: 'c1', length: 1000, digest: store.summaryOf('c1')!.digest }]);
  await runner.stop();
  t.equal(store.summaryOf('c1'), undefined);
});

t.test('a primary store picks its version after an append that held the lock', async (t) => {
  const store = await openStore(t);
  await store.write('c1', bytes(1000));
  const cluster = new Cluster({ address: '127.0.0.1:1', replicationFactor: 3, master: null, rpc: rpc(), controlTimeoutMs: 2000, dataTimeoutMs: 5000, log });
  const sent: number[] = [];
  cluster.storeReplicas = async (_targets, _req, version) => (sent.push(version), []);
  const ctx: HandlerContext = { store, log, txlog: log, pool: new BufferPool(MIB), cluster };
  const appended = store.append('c1', bytes(MIB, 2));
  const stored = storeChunk.handle(
    { command: 'store_chunk', chunk_id: 'c1', data: bytes(500, 3), file_path: '/f', chunk_index: 0, client_id: null, isReplica: false, version: null, forward_to: null },
    ctx,
  );
  t.match(await appended, { version: 2 });
  t.match(await stored, { status: 'ok', version: 3 }, 'the store took the version after the append\'s');
  t.same(sent, [3], 'the copies were sent that version');
  t.match(store.summaryOf('c1'), { length: 500, version: 3 });
});
