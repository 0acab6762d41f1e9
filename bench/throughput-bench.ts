// Store and retrieve throughput at 64 KiB (and 128, 256 KiB), 1 MiB and 64 MiB, one connection per request and
// pipelined, against write+fsync files and loopback TCP, in alternating rounds.
import { BenchConn, expectOk, oneShot, retrieveFrame, storeFrame, type BenchReply } from './bench-client.js';
import { diskBaseline, loopbackBaseline } from './baselines.js';
import { combined, KIB, mibPerS, MIB, payload, pipelined, sequential, type Run } from './measure.js';
import type { BenchRow } from './row.js';

export const SIZES = [
  { label: '64 KiB', bytes: 64 * KIB, window: 16, kept: 16, group: '64k' },
  // Around wal_store_max_kb: where a store through the log stops paying (docs/performance.md).
  { label: '128 KiB', bytes: 128 * KIB, window: 16, kept: 16, group: '128k' },
  { label: '256 KiB', bytes: 256 * KIB, window: 16, kept: 16, group: '256k' },
  { label: '1 MiB', bytes: MIB, window: 8, kept: 8, group: '1m' },
  { label: '64 MiB', bytes: 64 * MIB, window: 4, kept: 4, group: '64m' },
] as const;

/** What every figure group of `npm run bench` is given. */
export interface BenchContext {
  /** The chunk server measured. */
  port: number;
  /** The baseline peer. */
  peerPort: number;
  work: string;
  rounds: number;
  sampleMs: number;
  log: (msg: string) => void;
}

/** The rows of the sizes in `groups`; `disk64` the 64 MiB write+fsync baseline, if measured. */
export async function throughputFigures(c: BenchContext, groups: (group: string) => boolean): Promise<{ rows: BenchRow[]; disk64: Run | null }> {
  const { port, work, rounds, sampleMs, log } = c;
  const rows: BenchRow[] = [];
  let disk64: Run | null = null;
  for (const s of SIZES) {
    if (!groups(s.group)) continue;
    const data = payload(s.bytes, s.bytes);
    const modeName = (mode: 'conn' | 'pipe'): string => (mode === 'conn' ? 'connection per request' : `pipelined x${s.window}`);
    // The storage issue's targets (issue 10), for one request per connection.
    const target = (op: 'store' | 'retrieve', mode: 'conn' | 'pipe', ratio: number): Partial<BenchRow> => {
      if (mode !== 'conn') return {};
      if (op === 'retrieve') return s.bytes >= MIB ? { target: '>= 80 % of loopback', met: ratio >= 0.8 } : {};
      const want = s.bytes >= MIB ? 0.8 : 0.6;
      return { target: `>= ${want * 100} % of disk`, met: ratio >= want };
    };

    log(`store ${s.label}: ${rounds} rounds of write+fsync baseline, store per connection, store pipelined`);
    const disk: Run[] = [];
    const stores = { conn: [] as Run[], pipe: [] as Run[] };
    let seq = 0;
    const store = async (conn: BenchConn | null): Promise<number> => {
      const frame = storeFrame(`s${s.group}-${seq++}`, data);
      expectOk(conn ? await conn.request(frame) : await oneShot(port, frame), 'store');
      return s.bytes;
    };
    for (let r = 0; r < rounds; r++) {
      disk.push(await diskBaseline(work, data, sampleMs, 1));
      stores.conn.push(await sequential(sampleMs, 1, () => store(null)));
      const conn = await BenchConn.open(port);
      stores.pipe.push(await pipelined(sampleMs, s.window, s.window, () => store(conn)));
      conn.close();
    }
    const diskBest = combined(disk);
    if (s.bytes === 64 * MIB) disk64 = diskBest;
    for (const mode of ['conn', 'pipe'] as const) {
      const run = combined(stores[mode]);
      const ratio = mibPerS(run) / mibPerS(diskBest);
      rows.push({
        figure: `store ${s.label}, ${modeName(mode)}`,
        value: mibPerS(run),
        unit: 'MiB/s',
        baseline: `write+fsync ${s.label} files`,
        baselineValue: mibPerS(diskBest),
        ratio,
        detail: `${run.ops} ops in ${run.seconds.toFixed(2)} s, ${rounds} rounds`,
        ...target('store', mode, ratio),
      });
    }

    const ids = Array.from({ length: s.kept }, (_, i) => `r${s.group}-${i}`);
    for (const id of ids) expectOk(await oneShot(port, storeFrame(id, data)), 'store');
    const frames = ids.map(retrieveFrame);
    const check = (r: BenchReply): number => {
      expectOk(r, 'retrieve');
      if (r.dataBytes !== s.bytes) throw new Error(`retrieve returned ${r.dataBytes} bytes`);
      return s.bytes;
    };
    log(`retrieve ${s.label}: ${rounds} rounds of loopback baseline and retrieve, per connection and pipelined`);
    const samples = { conn: { tcp: [] as Run[], server: [] as Run[] }, pipe: { tcp: [] as Run[], server: [] as Run[] } };
    for (let r = 0; r < rounds; r++) {
      samples.conn.tcp.push(await loopbackBaseline(c.peerPort, s.bytes, sampleMs, 1, null));
      let i = 0;
      samples.conn.server.push(await sequential(sampleMs, 1, async () => check(await oneShot(port, frames[i++ % ids.length]!))));
      samples.pipe.tcp.push(await loopbackBaseline(c.peerPort, s.bytes, sampleMs, s.window, s.window));
      const conn = await BenchConn.open(port);
      samples.pipe.server.push(await pipelined(sampleMs, s.window, s.window, async () => check(await conn.request(frames[i++ % ids.length]!))));
      conn.close();
    }
    for (const mode of ['conn', 'pipe'] as const) {
      const run = combined(samples[mode].server);
      const base = combined(samples[mode].tcp);
      const ratio = mibPerS(run) / mibPerS(base);
      rows.push({
        figure: `retrieve ${s.label}, ${modeName(mode)}`,
        value: mibPerS(run),
        unit: 'MiB/s',
        baseline: `loopback TCP ${s.label} replies, ${modeName(mode)}`,
        baselineValue: mibPerS(base),
        ratio,
        detail: `${run.ops} ops in ${run.seconds.toFixed(2)} s, ${rounds} rounds`,
        ...target('retrieve', mode, ratio),
      });
    }
  }

  return { rows, disk64 };
}
