// Small durable stores and their reads, 4 KiB store+retrieve pairs from 1 to 64 clients,
// against the same pairs done on files in process and over loopback TCP alone.
import { BenchConn, expectOk, oneShot, requestFrame, retrieveFrame, storeFrame, type BenchReply } from './bench-client.js';
import { durableFilePairs } from './baselines.js';
import { cpuSecondsOf, startServer, stopChild, type Child } from './children.js';
import { cpuShare, KIB, now, summary, payload, type Latencies } from './measure.js';
import type { BenchRow } from './row.js';
import type { BenchContext } from './throughput-bench.js';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';

const PAIR_CLIENTS = [1, 8, 64];
const PAIR_BYTES = 4 * KIB;

/**
 * `clients` connections each storing a 4 KiB chunk and reading it back, over and over. With
 * `toPeer`, the same two round trips go to the baseline peer instead: the request carries the
 * payload and the second reply brings it back, with no disk behind them.
 */
async function storeRetrievePairs(port: number, data: Buffer, clients: number, perRequest: boolean, ms: number, toPeer = false): Promise<Latencies> {
  const peerStore = requestFrame({ size: 0 }, data);
  const peerRetrieve = requestFrame({ size: data.length });
  const latencies: number[] = [];
  const start = now();
  await Promise.all(
    Array.from({ length: clients }, async (_, k) => {
      const conn = perRequest ? null : await BenchConn.open(port);
      const ask = (frame: Buffer[]): Promise<BenchReply> => (conn ? conn.request(frame) : oneShot(port, frame));
      try {
        for (let i = 0; now() - start < ms; i++) {
          const id = `p${clients}${perRequest ? 'c' : ''}-${k}-${start.toFixed(0)}-${i}`;
          const t0 = now();
          expectOk(await ask(toPeer ? peerStore : storeFrame(id, data)), 'pair store');
          const r = expectOk(await ask(toPeer ? peerRetrieve : retrieveFrame(id)), 'pair retrieve');
          if (r.dataBytes !== data.length) throw new Error('pair retrieve: wrong size');
          latencies.push(now() - t0);
        }
      } finally {
        conn?.close();
      }
    }),
  );
  return { ms: latencies, seconds: (now() - start) / 1000 };
}

/** `server` is the measured server's process; servers it starts (fsync = false) go to `children`. */
export async function pairFigures(c: BenchContext, o: { server: Child; children: Child[]; pairRounds: number; pairMs: number }): Promise<BenchRow[]> {
  const { port, work, log } = c;
  const { server, children, pairRounds, pairMs } = o;
  const rows: BenchRow[] = [];
  const data = payload(PAIR_BYTES, 3);
  const variants = [
    ...PAIR_CLIENTS.map((clients) => ({ clients, perRequest: false, fsync: true })),
    { clients: 8, perRequest: true, fsync: true },
    { clients: 8, perRequest: false, fsync: false },
  ];
  let unsynced: Child | null = null;
  for (const { clients, perRequest, fsync } of variants) {
    let name = `4 KiB store+retrieve pairs, ${clients} client${clients > 1 ? 's' : ''}`;
    if (perRequest) name += ', connection per request';
    if (!fsync) name += ', fsync = false (opt-in)';
    log(`${name}, and the same with files only`);
    let pairPort = port;
    if (!fsync) {
      const config = join(work, 'no-fsync.toml');
      await writeFile(config, '[chunk_server]\nfsync = false\n');
      unsynced = await startServer(join(work, 'data-nofsync'), 'bench-nofsync', [], ['--config', config]);
      children.push(unsynced);
      pairPort = unsynced.port;
    }
    const baseRuns: Latencies[] = [];
    const netRuns: Latencies[] = [];
    const serverRuns: Latencies[] = [];
    const pid = (unsynced ?? server).proc.pid!;
    const cpu = { user: 0, system: 0 };
    for (let r = 0; r < pairRounds; r++) {
      baseRuns.push(await durableFilePairs(join(work, `pairs-${children.length}-${clients}-${r}`), data, clients, pairMs / 2, fsync));
      netRuns.push(await storeRetrievePairs(c.peerPort, data, clients, perRequest, pairMs / 2, true));
      const cpu0 = await cpuSecondsOf(pid);
      serverRuns.push(await storeRetrievePairs(pairPort, data, clients, perRequest, pairMs));
      const cpu1 = await cpuSecondsOf(pid);
      cpu.user += cpu1.user - cpu0.user;
      cpu.system += cpu1.system - cpu0.system;
    }
    const base = summary(baseRuns);
    const net = summary(netRuns);
    const run = summary(serverRuns);
    const is8 = clients === 8 && !perRequest && fsync;
    const files = `${clients} in-process writer${clients > 1 ? 's' : ''}: create+write${fsync ? '+fsync' : ''}+rename${fsync ? '+dir fsync' : ''}, then open+read`;
    rows.push({
      figure: name,
      value: run.rate,
      unit: 'pairs/s',
      baseline: files,
      baselineValue: base.rate,
      ratio: run.rate / base.rate,
      detail: `p50 ${run.p50.toFixed(2)} ms, p99 ${run.p99.toFixed(2)} ms; server CPU ${cpuShare(cpu, serverRuns)}; files only p99 ${base.p99.toFixed(2)} ms; loopback only (same round trips to the peer) ${net.rate.toFixed(0)}/s, p99 ${net.p99.toFixed(2)} ms`,
      ...(is8 ? { target: '>= 1.0 x files only', met: run.rate >= base.rate } : {}),
    });
    rows.push({
      figure: `${name}: p99 latency`,
      value: run.p99,
      unit: 'ms',
      baseline: 'the same files-only pairs',
      baselineValue: base.p99,
      detail: `p50 ${run.p50.toFixed(2)} ms`,
      ...(is8 ? { target: '<= 1.5 x files only', met: run.p99 <= 1.5 * base.p99 } : {}),
    });
  }
  if (unsynced) await stopChild(unsynced);
  return rows;
}
