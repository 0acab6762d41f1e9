// record_append on real processes (issue 23): the primary the master names picks the offsets,
// every current holder has every acknowledged record at its offset, a full chunk is padded to
// its end and the file's next chunk is handed out once however many appenders ask, and a
// paused primary's lease runs out before another holder is named: no two primaries accept
// writes for one chunk.
import t, { type Test } from 'tap';
import { GfsClient } from '../../../src/client/index.js';
import { startCluster, type Cluster } from '../../support/cluster.js';
import { call, type Reply } from '../../support/frames.js';
import { chunkLocations, fileMetadata, portOf } from '../../support/cluster-probes.js';
import { collect, record, RECORD_BYTES } from '../../support/records.js';
import { waitFor } from '../../support/waits.js';

const PATH = '/ra/log';
const HEAD = Buffer.from('head of the log|');
// Small chunks, so 16 appenders fill several and meet the padding and allocate_chunk.
const CHUNK_BYTES = 64 * 1024;

interface Acked {
  readonly offset: number;
  readonly data: Buffer;
}

const locate = (c: Cluster, chunk: string): Promise<Reply> => chunkLocations(c.master.port, PATH, chunk);
const metadata = async (c: Cluster): Promise<Reply> => (await fileMetadata(c.master.port, PATH))!;

async function producers(t: Test, c: Cluster, n: number, each: number, opts: { timeoutMs?: number } = {}): Promise<{ acked: Acked[]; failed: string[]; firstAckAt: number }> {
  const clients = Array.from({ length: n }, () => new GfsClient({ master: c.master.address, chunkSize: CHUNK_BYTES, ...opts }));
  t.teardown(() => clients.forEach((cl) => cl.close()));
  const acked: Acked[] = [];
  const failed: string[] = [];
  let firstAckAt = Infinity;
  await Promise.all(
    clients.map(async (client, p) => {
      for (let i = 0; i < each; i++) {
        const data = record(`ra-${p}-${i}`);
        try {
          const r = await client.append(PATH, data);
          firstAckAt = Math.min(firstAckAt, Date.now());
          acked.push({ offset: r.offset!, data });
        } catch (err) {
          failed.push((err as Error).message);
        }
      }
    }),
  );
  return { acked, failed, firstAckAt };
}

/**
 * Every acknowledged record whole at its offset in what a reader gets, and in its chunk on
 * every holder the master counts current once they all reported.
 */
async function checkAcked(t: Test, c: Cluster, acked: readonly Acked[], holdersWanted: number): Promise<Buffer> {
  const offsets = acked.map((a) => a.offset);
  t.equal(new Set(offsets).size, offsets.length, 'offsets distinct');
  const whole = await collect(new GfsClient({ master: c.master.address }), PATH);
  t.same(acked.filter((a) => !whole.subarray(a.offset, a.offset + RECORD_BYTES).equals(a.data)).map((a) => a.offset), [], 'every acknowledged record whole at its offset in the file a reader gets');
  const meta = await metadata(c);
  let start = 0;
  for (const chunk of meta.chunk_ids as string[]) {
    const length = meta.chunk_offsets[chunk] as number;
    const mine = acked.filter((a) => a.offset >= start && a.offset < start + length);
    const holders = await waitFor(`at least ${holdersWanted} current holders of ${chunk}`, async () => {
      const r = await locate(c, chunk);
      return (r.locations?.length ?? 0) >= holdersWanted ? (r.locations as string[]) : undefined;
    });
    for (const holder of holders) {
      const copy = Buffer.from((await call(portOf(holder), { command: 'retrieve_chunk', chunk_id: chunk })).data);
      const missing = mine.filter((a) => !copy.subarray(a.offset - start, a.offset - start + RECORD_BYTES).equals(a.data));
      t.same(missing.map((a) => a.offset), [], `${holder}: the ${mine.length} acknowledged records of ${chunk} whole at their offsets`);
    }
    start += length;
  }
  return whole;
}

t.test('16 appenders over several chunks: distinct offsets, every record on every holder, padding, one next chunk at a time', async (t) => {
  const c = await startCluster(t);
  await new GfsClient({ master: c.master.address, chunkSize: CHUNK_BYTES }).put(HEAD, PATH);
  const first = (await metadata(c)).last_chunk_id as string;
  const lease = await waitFor('a primary named for the last chunk', async () => {
    const r = await locate(c, first);
    return typeof r.primary === 'string' ? r : undefined;
  });
  t.ok(lease.locations.includes(lease.primary), 'the primary is one of the current holders');
  t.ok(lease.lease_end > Date.now(), 'its lease ends in the future');

  const { acked, failed } = await producers(t, c, 16, 8);
  t.same(failed, [], 'every append got through');
  t.equal(acked.length, 128);
  const whole = await checkAcked(t, c, acked, 3);

  const meta = await metadata(c);
  const lengths = (meta.chunk_ids as string[]).map((id) => meta.chunk_offsets[id] as number);
  t.ok(lengths.length >= 8, `the records filled several chunks (${lengths.length})`);
  t.same(lengths.slice(0, -1).filter((n) => n !== CHUNK_BYTES), [], 'every chunk but the last is padded to its end: none was handed out twice and left short');
  t.equal(meta.total_size, whole.length, 'the recorded size is what a reader gets');
  // Whatever no acknowledged record (or the head) covers is padding (zeros) or a copy a
  // failed attempt left (GFS 3.3: a retry may leave a duplicate), never a torn record.
  const covered = new Uint8Array(whole.length);
  for (const a of [{ offset: 0, data: HEAD }, ...acked]) covered.fill(1, a.offset, a.offset + a.data.length);
  let torn = 0;
  let copies = 0;
  for (let i = 0; i < whole.length; i++) {
    if (covered[i] || whole[i] === 0) continue;
    const bar = whole.indexOf('|', i);
    const tag = bar > i && bar - i < 32 ? whole.subarray(i, bar).toString('latin1') : '';
    if (tag.startsWith('ra-') && whole.subarray(i, i + RECORD_BYTES).equals(record(tag))) {
      copies++;
      i += RECORD_BYTES - 1;
    } else torn++;
  }
  t.comment(`extra whole copies left by retried appends: ${copies}`);
  t.equal(torn, 0, 'the rest is padding (zero bytes) or whole copies of retried records, never a torn record');
});

t.test('refusals: a record too large, a holder that is not the primary', async (t) => {
  const c = await startCluster(t);
  await new GfsClient({ master: c.master.address, chunkSize: CHUNK_BYTES }).put(HEAD, PATH);
  const chunk = (await metadata(c)).last_chunk_id as string;
  const r = await waitFor('a primary', async () => {
    const l = await locate(c, chunk);
    return typeof l.primary === 'string' ? l : undefined;
  });
  const other = (r.locations as string[]).find((a) => a !== r.primary)!;
  const body = { command: 'record_append', chunk_id: chunk, file_path: PATH, chunk_size: CHUNK_BYTES };
  t.match(await call(portOf(r.primary), { ...body, data: Buffer.alloc(CHUNK_BYTES / 4 + 1, 1) }), { status: 'error', message: 'record_too_large', max_record_bytes: CHUNK_BYTES / 4 });
  t.match(await call(portOf(other), { ...body, data: Buffer.from('x') }), { status: 'error', message: 'not_primary', primary: r.primary });
  t.match(await call(portOf(r.primary), { ...body, data: Buffer.from('x') }), { status: 'ok', offset: HEAD.length });
});

t.test('a paused primary: another holder is named only after its lease ran out, and the old one accepts nothing after', async (t) => {
  const LEASE_S = 3;
  const c = await startCluster(t, { master: `lease_s = ${LEASE_S}\n` });
  const setup = new GfsClient({ master: c.master.address, chunkSize: CHUNK_BYTES });
  t.teardown(() => setup.close());
  await setup.put(HEAD, PATH);
  const before = await setup.append(PATH, record('before'));
  const chunk = (await metadata(c)).last_chunk_id as string;
  const old = await locate(c, chunk);
  const paused = c.servers.find((s) => s.address === old.primary)!;
  paused.proc.kill('SIGSTOP');
  t.teardown(() => void paused.proc.kill('SIGCONT'));
  // Read once paused: it can no longer renew.
  const oldEnd = (await locate(c, chunk)).lease_end as number;
  t.equal((await locate(c, chunk)).primary, old.primary, 'while its lease lasts the paused primary is still named');

  const { acked, failed, firstAckAt } = await producers(t, c, 4, 3, { timeoutMs: 1500 });
  t.same(failed, [], 'the appends went on with another primary');
  // Any acknowledgement needs another primary of the chunk, or the next chunk, which is
  // handed out only after this one answered chunk_full: either way after the old lease ran out.
  t.ok(firstAckAt >= oldEnd - 50, `nothing acknowledged before the old lease ran out as the master measures it (old end ${oldEnd}, first ack ${firstAckAt})`);
  const last = (await metadata(c)).last_chunk_id as string;
  const now = await waitFor('a primary for the last chunk', async () => {
    const r = await locate(c, last);
    return typeof r.primary === 'string' ? r : undefined;
  });
  t.not(now.primary, old.primary, 'the primary now is another server');

  paused.proc.kill('SIGCONT');
  await waitFor('the old primary to answer again', async () => {
    const r = await call(paused.port, { command: 'check_space', size: 1 }).catch(() => undefined);
    return r?.status === 'ok' ? r : undefined;
  });
  const late = await call(paused.port, { command: 'record_append', chunk_id: chunk, file_path: PATH, chunk_size: CHUNK_BYTES, data: record('late') });
  t.match(late, { status: 'error', message: /^(not_primary|no_lease)/ }, 'the old primary refuses a record once its lease is gone');
  await checkAcked(t, c, [{ offset: before.offset!, data: record('before') }, ...acked], 2);
});
