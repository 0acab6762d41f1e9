// Append figures (issue 10): 4 KiB durable appends to a chunk of 1 MiB and of 64 MiB, beside
// the disk's own durable 4 KiB append (write at the end of a file of the same size +
// fdatasync); and 8 appenders on 8 chunks beside 8 such writers, with p99 latencies.
import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { BenchConn, expectOk, requestFrame } from './bench-client.js';
import { KIB, MIB, now, percentile } from './measure.js';
import type { ComparedRow } from './row.js';

const RECORD = 4 * KIB;

export type AppendRow = ComparedRow & { detail: string };

/** `lanes` loops each running `op(lane)` until `ms` passed; every op's latency. */
async function lanesFor(lanes: number, ms: number, op: (lane: number) => Promise<void>): Promise<{ ms: number[]; seconds: number }> {
  const latencies: number[] = [];
  const start = now();
  await Promise.all(
    Array.from({ length: lanes }, async (_, lane) => {
      while (now() - start < ms) {
        const t0 = now();
        await op(lane);
        latencies.push(now() - t0);
      }
    }),
  );
  return { ms: latencies, seconds: (now() - start) / 1000 };
}

/** The disk's durable append: files of `size` bytes, each op one 4 KiB write at the end + fdatasync. */
async function diskAppends(dir: string, size: number, lanes: number, ms: number, tag: string): Promise<{ ms: number[]; seconds: number }> {
  const record = Buffer.alloc(RECORD, 7);
  const handles = await Promise.all(
    Array.from({ length: lanes }, async (_, i) => {
      const fh = await open(join(dir, `append-base-${tag}-${i}`), 'w+');
      await fh.truncate(size);
      await fh.write(Buffer.alloc(1, 1), 0, 1, size - 1);
      await fh.sync();
      return { fh, end: size };
    }),
  );
  try {
    return await lanesFor(lanes, ms, async (lane) => {
      const h = handles[lane]!;
      await h.fh.write(record, 0, RECORD, h.end);
      h.end += RECORD;
      await h.fh.datasync();
    });
  } finally {
    for (const [i, h] of handles.entries()) {
      await h.fh.close();
      await unlink(join(dir, `append-base-${tag}-${i}`));
    }
  }
}

async function serverAppends(port: number, ids: string[], ms: number): Promise<{ ms: number[]; seconds: number }> {
  const conns = await Promise.all(ids.map(() => BenchConn.open(port)));
  const frames = ids.map((id) => requestFrame({ command: 'append_chunk', chunk_id: id }, Buffer.alloc(RECORD, 9)));
  try {
    return await lanesFor(ids.length, ms, async (lane) => void expectOk(await conns[lane]!.request(frames[lane]!), 'append'));
  } finally {
    for (const c of conns) c.close();
  }
}

function sum(runs: Array<{ ms: number[]; seconds: number }>): { rate: number; p99: number; ops: number; seconds: number } {
  const all = runs.flatMap((r) => r.ms).sort((a, b) => a - b);
  const seconds = runs.reduce((s, r) => s + r.seconds, 0);
  return { rate: all.length / seconds, p99: percentile(all, 99), ops: all.length, seconds };
}

/** Rounds alternate server and baseline so that both see the same load on a shared machine. */
export async function appendFigures(port: number, dir: string, rounds: number, sampleMs: number, log: (m: string) => void): Promise<AppendRow[]> {
  const rows: AppendRow[] = [];
  const rates = new Map<number, number>();
  for (const size of [MIB, 64 * MIB]) {
    const label = size === MIB ? '1 MiB' : '64 MiB';
    const id = `append-${size}`;
    const conn = await BenchConn.open(port);
    expectOk(await conn.request(requestFrame({ command: 'store_chunk', chunk_id: id, file_path: '/bench/append' }, Buffer.alloc(size, 3))), 'store');
    conn.close();
    log(`append 4 KiB to a ${label} chunk: ${rounds} rounds beside write+fdatasync at the end of a ${label} file`);
    const server: Array<{ ms: number[]; seconds: number }> = [];
    const disk: Array<{ ms: number[]; seconds: number }> = [];
    for (let r = 0; r < rounds; r++) {
      disk.push(await diskAppends(dir, size, 1, sampleMs, label));
      server.push(await serverAppends(port, [id], sampleMs));
    }
    const s = sum(server);
    const d = sum(disk);
    rates.set(size, s.rate);
    rows.push({
      figure: `append 4 KiB to a ${label} chunk, one client`,
      value: s.rate,
      unit: 'appends/s',
      baseline: `write+fdatasync 4 KiB at the end of a ${label} file`,
      baselineValue: d.rate,
      ratio: s.rate / d.rate,
      ...(size === 64 * MIB ? { target: '>= 0.5 x disk, >= 0.8 x the 1 MiB rate', met: s.rate / d.rate >= 0.5 && s.rate >= 0.8 * (rates.get(MIB) ?? Infinity) } : {}),
      detail: `${s.ops} appends in ${s.seconds.toFixed(2)} s, p99 ${s.p99.toFixed(1)} ms (disk p99 ${d.p99.toFixed(1)} ms); ${label} rate / 1 MiB rate ${(s.rate / (rates.get(MIB) ?? s.rate)).toFixed(2)}`,
    });
  }
  const ids = Array.from({ length: 8 }, (_, i) => `append-8-${i}`);
  for (const id of ids) {
    const conn = await BenchConn.open(port);
    expectOk(await conn.request(requestFrame({ command: 'store_chunk', chunk_id: id, file_path: '/bench/append' }, Buffer.alloc(MIB, 4))), 'store');
    conn.close();
  }
  log(`8 appenders on 8 chunks: ${rounds} rounds beside 8 writers doing write+fdatasync`);
  const server: Array<{ ms: number[]; seconds: number }> = [];
  const disk: Array<{ ms: number[]; seconds: number }> = [];
  for (let r = 0; r < rounds; r++) {
    disk.push(await diskAppends(dir, MIB, 8, sampleMs, '8'));
    server.push(await serverAppends(port, ids, sampleMs));
  }
  const s = sum(server);
  const d = sum(disk);
  rows.push({
    figure: '8 appenders on 8 chunks, 4 KiB each',
    value: s.rate,
    unit: 'appends/s',
    baseline: '8 writers: write+fdatasync 4 KiB at the end of 8 files',
    baselineValue: d.rate,
    ratio: s.rate / d.rate,
    detail: `p99 ${s.p99.toFixed(1)} ms beside the writers' p99 ${d.p99.toFixed(1)} ms; ${s.ops} appends in ${s.seconds.toFixed(2)} s`,
  });
  return rows;
}
