// Peak memory of a fresh server while 16 clients store 64 MiB chunks at once, and the rate
// they get together against write+fsync files.
import { join } from 'node:path';
import { expectOk, oneShot, storeFrame } from './bench-client.js';
import { diskBaseline } from './baselines.js';
import { memoryOf, startServer, stopChild, type Child } from './children.js';
import { mibPerS, MIB, now, payload, type Run } from './measure.js';
import type { BenchRow } from './row.js';
import type { BenchContext } from './throughput-bench.js';

const RSS_CLIENTS = 16;
const RSS_CHUNK_BYTES = 64 * MIB;

/** `disk64`: the 64 MiB baseline if the throughput figures measured it. */
export async function rssFigures(c: BenchContext, o: { quick: boolean; serverArgs: string[]; children: Child[]; disk64: Run | null }): Promise<BenchRow[]> {
  const { work, sampleMs, log } = c;
  const { serverArgs, children } = o;
  let disk64 = o.disk64;
  const rows: BenchRow[] = [];
  log(`peak RSS: ${RSS_CLIENTS} clients store ${RSS_CHUNK_BYTES / MIB} MiB chunks at once (fresh server)`);
  const fresh = await startServer(join(work, 'data-rss'), 'bench-rss', [], serverArgs);
  children.push(fresh);
  const idle = await memoryOf(fresh.proc.pid!);
  const data = payload(RSS_CHUNK_BYTES, 11);
  const rounds = o.quick ? 1 : 2;
  const t0 = now();
  for (let round = 0; round < rounds; round++) {
    await Promise.all(
      Array.from({ length: RSS_CLIENTS }, async (_, k) => expectOk(await oneShot(fresh.port, storeFrame(`rss-${round}-${k}`, data)), 'store')),
    );
  }
  const seconds = (now() - t0) / 1000;
  const mem = await memoryOf(fresh.proc.pid!);
  await stopChild(fresh);
  const storedMib = (rounds * RSS_CLIENTS * RSS_CHUNK_BYTES) / MIB;
  rows.push({
    figure: `peak RSS, ${RSS_CLIENTS} concurrent 64 MiB stores`,
    value: mem.hwm / MIB,
    unit: 'MiB',
    target: '< 512 MiB',
    met: mem.hwm < 512 * MIB,
    detail: `idle ${(idle.hwm / MIB).toFixed(0)} MiB; ${rounds} round(s)`,
  });
  disk64 ??= await diskBaseline(work, data, sampleMs, 1);
  const disk = disk64;
  rows.push({
    figure: `store 64 MiB, ${RSS_CLIENTS} concurrent connections`,
    value: storedMib / seconds,
    unit: 'MiB/s',
    baseline: 'write+fsync 64 MiB files',
    baselineValue: mibPerS(disk),
    ratio: storedMib / seconds / mibPerS(disk),
  });
  return rows;
}
