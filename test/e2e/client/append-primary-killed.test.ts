// The primary killed (-9) in the middle of 16 appenders to one file (issue 23, acceptance):
// the appenders go on with the primary the master names once the dead one's lease ran out,
// and afterwards every acknowledged record is whole at the offset its reply gave, on every
// holder the master counts current and in what a reader gets. Nothing acknowledged is lost.
import t from 'tap';
import { GfsClient } from '../../../src/client/index.js';
import { startCluster, type Cluster } from '../../support/cluster.js';
import { call, type Reply } from '../../support/frames.js';
import { chunkLocations, fileMetadata, portOf } from '../../support/cluster-probes.js';
import { collect, record, RECORD_BYTES } from '../../support/records.js';
import { waitFor, waitUntil } from '../../support/waits.js';

const PATH = '/killed/log';
const HEAD = Buffer.from('head of the log|');
// 64 records a chunk: the 16 appenders fill a few, so the kill may land on a padding or
// on a next chunk being handed out as well as on a plain append.
const CHUNK_BYTES = 256 * 1024;
const PRODUCERS = 16;
const EACH = 12;
// Short, so the appenders wait out the dead primary's lease in seconds, not a minute.
const LEASE_S = 2;

interface Acked {
  readonly offset: number;
  readonly data: Buffer;
}

const locate = (c: Cluster, chunk: string): Promise<Reply> => chunkLocations(c.master.port, PATH, chunk);
const metadata = async (c: Cluster): Promise<Reply> => (await fileMetadata(c.master.port, PATH))!;

// Without the master's rule that a copy at the end its primary named is behind, not stale,
// when a holder's heartbeat runs ahead of that word (src/master/replica-policy.ts), live
// holders were dropped from the lease's forward list while records streamed in, later records
// were acknowledged on the primary alone, and killing it lost them.
t.test('kill -9 of the primary during 16 appenders: they go on with a new primary and nothing acknowledged is lost', async (t) => {
  const c = await startCluster(t, {
    servers: 4,
    // The dead server is dropped within a few seconds, and its copies made again on the fourth.
    master: `replication_factor = 3\nlease_s = ${LEASE_S}\ndead_after_s = 2\ngc_grace_s = 3600\ninstruction_timeout_s = 20\n`,
    chunk: `[master]\nreplication_factor = 3\n`,
  });
  const setup = new GfsClient({ master: c.master.address, chunkSize: CHUNK_BYTES });
  t.teardown(() => setup.close());
  await setup.put(HEAD, PATH);

  const clients = Array.from({ length: PRODUCERS }, () => new GfsClient({ master: c.master.address, chunkSize: CHUNK_BYTES, timeoutMs: 3000 }));
  t.teardown(() => clients.forEach((cl) => cl.close()));
  const acked: Acked[] = [];
  const failed: string[] = [];
  let ackedAfterKill = 0;
  let killedAt = 0;
  const appending = Promise.all(
    clients.map(async (client, p) => {
      for (let i = 0; i < EACH; i++) {
        const data = record(`k-${p}-${i}`);
        try {
          const r = await client.append(PATH, data);
          acked.push({ offset: r.offset!, data });
          if (killedAt > 0) ackedAfterKill++;
        } catch (err) {
          failed.push((err as Error).message);
        }
      }
    }),
  );

  // A third of the way in, the primary of the chunk being appended to dies.
  await waitUntil('a third of the appends acknowledged', () => acked.length >= (PRODUCERS * EACH) / 3, 60_000);
  const chunk = (await metadata(c)).last_chunk_id as string;
  const lease = await waitFor('a primary for the last chunk', async () => {
    const r = await locate(c, chunk);
    return typeof r.primary === 'string' ? r : undefined;
  });
  const victim = c.servers.find((s) => s.address === lease.primary)!;
  const ackedAtKill = acked.length;
  victim.proc.kill('SIGKILL');
  killedAt = Date.now();
  await victim.exited;
  t.comment(`killed the primary ${victim.address} of ${chunk} after ${ackedAtKill} acknowledged appends`);

  await appending;
  t.same(failed, [], 'every append got through: the appenders went on with another primary');
  t.equal(acked.length, PRODUCERS * EACH, 'every append acknowledged');
  t.ok(ackedAfterKill > 0, `appends acknowledged after the kill (${ackedAfterKill})`);

  const offsets = acked.map((a) => a.offset);
  t.equal(new Set(offsets).size, offsets.length, 'offsets distinct');
  const whole = await collect(new GfsClient({ master: c.master.address }), PATH);
  t.same(acked.filter((a) => !whole.subarray(a.offset, a.offset + RECORD_BYTES).equals(a.data)).map((a) => a.offset), [], 'every acknowledged record whole at its offset in the file a reader gets');
  t.ok(HEAD.equals(whole.subarray(0, HEAD.length)), 'the head is still there');

  const meta = await metadata(c);
  t.equal(meta.total_size, whole.length, 'the recorded size is what a reader gets');
  let start = 0;
  for (const id of meta.chunk_ids as string[]) {
    const length = meta.chunk_offsets[id] as number;
    const mine = acked.filter((a) => a.offset >= start && a.offset < start + length);
    // Three current copies on live servers again (the dead server's made on the fourth). The
    // dead one's copy may still be listed, last (it may come back): it is not read.
    const holders = await waitFor(`three current holders of ${id} besides the dead server`, async () => {
      const r = await locate(c, id);
      const l = ((r.locations ?? []) as string[]).filter((a) => a !== victim.address);
      return l.length >= 3 ? l : undefined;
    }, 60_000);
    for (const holder of holders) {
      const copy = Buffer.from((await call(portOf(holder), { command: 'retrieve_chunk', chunk_id: id })).data);
      const missing = mine.filter((a) => !copy.subarray(a.offset - start, a.offset - start + RECORD_BYTES).equals(a.data));
      t.same(missing.map((a) => a.offset), [], `${holder}: the ${mine.length} acknowledged records of ${id} whole at their offsets`);
    }
    start += length;
  }
});
