// Master benchmark (issue 11 targets): update_file_metadata from 8 clients with a small and
// a large namespace (loaded through the store directly), restart time and RSS with the
// large one, and p99 of in-process get_file_metadata / holder lookups (memory-mapped reads).
// Prints absolute rates and ratios against the small-namespace run of the same process.
//   node dist/bench/master-bench.js [--files 1000000] [--seconds 3]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { MASTER_DEFAULTS } from '../master/config.js';
import { startMaster } from '../master/master.js';
import { Namespace } from '../master/namespace.js';
import { BenchConn, requestFrame } from './bench-client.js';

const CLIENTS = 8;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

async function load(dir: string, files: number): Promise<void> {
  const { ns } = await Namespace.open(join(dir, 'namespace'), null);
  const BATCH = 20_000;
  for (let i = 0; i < files; i += BATCH) {
    const writes: Promise<void>[] = [];
    for (let j = i; j < Math.min(files, i + BATCH); j++) writes.push(ns.recordChunk(`/f/${j}`, `c${j}`, ['127.0.0.1:1', '127.0.0.1:2', '127.0.0.1:3'], 4096, 0, 1));
    await Promise.all(writes);
  }
  await ns.close();
}

async function run(files: number, seconds: number): Promise<{ rate: number; startMs: number; rssMb: number; p99GetUs: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'master-bench-'));
  try {
    await load(dir, files);
    const t0 = performance.now();
    const master = await startMaster(
      { ...MASTER_DEFAULTS, host: '127.0.0.1', port: 0, metadataFile: join(dir, 'metadata.json'), replicationIntervalS: 3600, logLevel: 'silent' },
      pino({ level: 'silent' }),
    );
    const startMs = performance.now() - t0;
    const rssMb = process.memoryUsage().rss / 2 ** 20;
    const lat: number[] = [];
    const conns = await Promise.all(Array.from({ length: CLIENTS }, () => BenchConn.open(master.port)));
    for (let i = 0; i < 2000; i++) {
      const c = conns[0]!;
      const s = performance.now();
      const j = (i * 7919) % Math.max(1, files);
      await c.request(requestFrame(i % 2 === 0 ? { command: 'get_file_metadata', file_path: `/f/${j}` } : { command: 'get_chunk_locations', file_path: `/f/${j}`, chunk_id: `c${j}` }));
      lat.push((performance.now() - s) * 1000);
    }
    lat.sort((a, b) => a - b);
    let done = 0;
    const end = performance.now() + seconds * 1000;
    await Promise.all(
      conns.map(async (c, k) => {
        for (let i = 0; performance.now() < end; i++) {
          await c.request(requestFrame({ command: 'update_file_metadata', file_path: `/new/${k}/${i}`, chunk_id: `n${k}x${i}`, chunk_locations: ['127.0.0.1:1'], chunk_size: 4096 }));
          done++;
        }
      }),
    );
    for (const c of conns) c.close();
    await master.stop();
    return { rate: done / seconds, startMs, rssMb, p99GetUs: lat[Math.floor(lat.length * 0.99)]! };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const large = arg('files', 1_000_000);
const seconds = arg('seconds', 3);
const base = await run(1000, seconds);
const big = await run(large, seconds);
const fmt = (r: typeof base): string =>
  `update_file_metadata ${r.rate.toFixed(0)}/s, start ${r.startMs.toFixed(0)} ms, rss ${r.rssMb.toFixed(0)} MiB, get_file_metadata/get_chunk_locations p99 over TCP ${r.p99GetUs.toFixed(0)} us`;
console.log(`1,000 files:   ${fmt(base)}`);
console.log(`${large.toLocaleString('en')} files: ${fmt(big)}`);
console.log(`ratio (large / 1,000) of update_file_metadata rate: ${(big.rate / base.rate).toFixed(2)} (target >= 0.8)`);
