// The master's workload for master-bench.ts: a namespace of N one-chunk files loaded through
// the store, update_file_metadata from many clients, and lookups over TCP and in process.
import { join } from 'node:path';
import { pino } from 'pino';
import { MASTER_DEFAULTS, type MasterConfig } from '../src/config/master.js';
import { masterCommands } from '../src/master/commands/index.js';
import { masterContext } from '../src/master/main.js';
import { Namespace, type FileMetadata } from '../src/master/namespace/namespace.js';
import { BenchConn, requestFrame } from './bench-client.js';
import { percentile } from './measure.js';

const CLIENTS = 8;
const LOAD_BATCH = 50_000;
const HOLDERS = ['127.0.0.1:1', '127.0.0.1:2', '127.0.0.1:3'];

function fileOf(j: number): FileMetadata {
  const id = `c${j}`;
  const meta: FileMetadata = { file_path: `/f/${j}`, total_size: 4096, chunk_ids: [id], chunk_locations: Object.create(null), chunk_offsets: Object.create(null), last_chunk_id: id, last_chunk_offset: 4096 };
  meta.chunk_locations[id] = HOLDERS;
  meta.chunk_offsets[id] = 4096;
  return meta;
}

/** Loads `files` files into the namespace under `dir`; returns the ms it took. */
export async function load(dir: string, files: number): Promise<number> {
  const t0 = performance.now();
  const { ns } = await Namespace.open(join(dir, 'namespace'), null);
  for (let i = 0; i < files; i += LOAD_BATCH) ns.importFiles(Array.from({ length: Math.min(LOAD_BATCH, files - i) }, (_, k) => fileOf(i + k)));
  await ns.close();
  return performance.now() - t0;
}

export interface Lat {
  p50: number;
  p99: number;
}

function lat(us: number[]): Lat {
  us.sort((a, b) => a - b);
  return { p50: percentile(us, 50), p99: percentile(us, 99) };
}

/** Sequential requests on one connection, random files. */
export async function tcpLookups(port: number, files: number, n: number): Promise<{ meta: Lat; locs: Lat }> {
  const c = await BenchConn.open(port);
  const meta: number[] = [];
  const locs: number[] = [];
  for (let i = 0; i < n; i++) {
    const j = Math.floor(Math.random() * files);
    const s = performance.now();
    const r = await c.request(requestFrame(i % 2 === 0 ? { command: 'get_file_metadata', file_path: `/f/${j}` } : { command: 'get_chunk_locations', file_path: `/f/${j}`, chunk_id: `c${j}` }));
    if (r.status !== 'ok') throw new Error(`lookup: ${r.message}`);
    (i % 2 === 0 ? meta : locs).push((performance.now() - s) * 1000);
  }
  c.close();
  return { meta: lat(meta), locs: lat(locs) };
}

export type Kind = 'new' | 'existing';

/** update_file_metadata from 8 clients for `seconds`; returns ops done. */
export async function updates(port: number, files: number, kind: Kind, seconds: number, tag: string): Promise<number> {
  const conns = await Promise.all(Array.from({ length: CLIENTS }, () => BenchConn.open(port)));
  let done = 0;
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    conns.map(async (c, k) => {
      for (let i = 0; performance.now() < end; i++) {
        const j = Math.floor(Math.random() * files);
        const req =
          kind === 'new'
            ? { command: 'update_file_metadata', file_path: `/new/${tag}/${k}/${i}`, chunk_id: `n${tag}${k}x${i}`, chunk_locations: HOLDERS, chunk_size: 4096 }
            : { command: 'update_file_metadata', file_path: `/f/${j}`, chunk_id: `c${j}`, chunk_locations: HOLDERS, chunk_size: 4096 + (i % 1000) };
        const r = await c.request(requestFrame(req));
        if (r.status !== 'ok') throw new Error(`update_file_metadata: ${r.message}`);
        done++;
      }
    }),
  );
  for (const c of conns) c.close();
  return done;
}

/** In process: masterCommands.dispatch over the master's own context, as the socket layer calls it. */
export async function inProcessLookups(dir: string, files: number, n: number): Promise<{ cold: { meta: Lat; locs: Lat }; reported: { meta: Lat; locs: Lat }; reportMs: number }> {
  const config: MasterConfig = { ...MASTER_DEFAULTS, host: '127.0.0.1', port: 0, metadataFile: join(dir, 'metadata.json'), logLevel: 'silent' };
  const { ns } = await Namespace.open(join(dir, 'namespace'), null);
  try {
    const ctx = masterContext(config, ns, pino({ level: 'silent' }));
    const sample = async (): Promise<{ meta: Lat; locs: Lat }> => {
      const meta: number[] = [];
      const locs: number[] = [];
      for (let i = 0; i < n; i++) {
        const j = Math.floor(Math.random() * files);
        const req = i % 2 === 0 ? { command: 'get_file_metadata', file_path: `/f/${j}` } : { command: 'get_chunk_locations', file_path: `/f/${j}`, chunk_id: `c${j}` };
        const s = performance.now();
        const r = await masterCommands.dispatch(req, ctx);
        (i % 2 === 0 ? meta : locs).push((performance.now() - s) * 1000);
        if (r.status !== 'ok') throw new Error(`lookup: ${String(r.message)}`);
      }
      return { meta: lat(meta), locs: lat(locs) };
    };
    const cold = await sample();
    // Full reports of every chunk from the three holders, as after a restart once they are in.
    const t0 = performance.now();
    const now = Date.now();
    HOLDERS.forEach((a, k) => {
      ctx.nodes.heartbeat(a, [k * 40, 10], { total: 1 << 30, used: 0 });
      ctx.map.replace(a, Array.from({ length: files }, (_, j) => ({ chunk_id: `c${j}`, length: 4096, version: 0, digest: 'd0' })), now);
    });
    const reportMs = performance.now() - t0;
    return { cold, reported: await sample(), reportMs };
  } finally {
    await ns.close();
  }
}
