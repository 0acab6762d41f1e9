// Small-file and record-append figures of `npm run bench:client` (issue 23's targets), through
// the client library, beside the disk doing the same in the same run:
//   4 KiB puts, 1 and 16 clients   vs create + write + fsync of a 4 KiB file (1 and 16 writers)
//   4 KiB appends to one file, 1 and 16 clients   vs write + fsync at the end of one file (1 writer)
import { mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { GfsClient } from '../src/client/index.js';
import { KIB, now, percentile } from './measure.js';
import type { TargetRow } from './row.js';

const RECORD = 4 * KIB;

interface Lanes {
  ops: number;
  seconds: number;
  sorted: number[];
}

/** `lanes` loops each running `op(lane, i)` until `ms` passed. */
async function lanesFor(lanes: number, ms: number, op: (lane: number, i: number) => Promise<void>): Promise<Lanes> {
  const latencies: number[] = [];
  const start = now();
  await Promise.all(
    Array.from({ length: lanes }, async (_, lane) => {
      for (let i = 0; now() - start < ms; i++) {
        const t0 = now();
        await op(lane, i);
        latencies.push(now() - t0);
      }
    }),
  );
  return { ops: latencies.length, seconds: (now() - start) / 1000, sorted: latencies.sort((a, b) => a - b) };
}

const rate = (l: Lanes): number => l.ops / l.seconds;

/** The disk's small file: create, write 4 KiB, fsync, close (as a put needs it durable). */
async function diskFiles(dir: string, lanes: number, ms: number): Promise<Lanes> {
  const data = Buffer.alloc(RECORD, 5);
  await mkdir(dir, { recursive: true });
  const r = await lanesFor(lanes, ms, async (lane, i) => {
    const fh = await open(join(dir, `f-${lanes}-${lane}-${i}`), 'wx');
    await fh.write(data);
    await fh.sync();
    await fh.close();
  });
  await rm(dir, { recursive: true, force: true });
  return r;
}

/** The disk's durable append: one file, 4 KiB written at its end and fsynced, one writer at a time. */
async function diskAppends(path: string, ms: number): Promise<Lanes> {
  const data = Buffer.alloc(RECORD, 6);
  await mkdir(join(path, '..'), { recursive: true });
  const fh = await open(path, 'w');
  try {
    return await lanesFor(1, ms, async () => {
      await fh.write(data);
      await fh.sync();
    });
  } finally {
    await fh.close();
    await rm(path, { force: true });
  }
}

function row(figure: string, l: Lanes, baseline: string, base: number, target: number): TargetRow {
  const value = rate(l);
  return {
    figure, value, unit: 'ops/s', baseline, baselineValue: base, ratio: value / base, target: `>= ${target}`, met: value / base >= target,
    detail: `${l.ops} ops in ${l.seconds.toFixed(1)} s, p50 ${percentile(l.sorted, 50).toFixed(1)} ms, p99 ${percentile(l.sorted, 99).toFixed(1)} ms`,
  };
}

/** Every figure, each client run for `ms`. `scratch` is a directory on the cluster's disk. */
export async function smallFigures(master: string, scratch: string, ms: number, log: (s: string) => void): Promise<TargetRow[]> {
  const clients = Array.from({ length: 16 }, () => new GfsClient({ master }));
  try {
    log('disk: 4 KiB files, 1 and 16 writers; 4 KiB durable appends');
    const files1 = await diskFiles(join(scratch, 'files1'), 1, ms);
    const files16 = await diskFiles(join(scratch, 'files16'), 16, ms);
    const appendsDisk = await diskAppends(join(scratch, 'appends.bin'), ms);
    const data = Buffer.alloc(RECORD, 7);
    // Each file its own bytes: equal files share one chunk id, and the master sends those the classic way.
    const distinct = (tag: string): Buffer => Buffer.concat([Buffer.from(tag.padEnd(64, '.')), data.subarray(64)]);
    log('4 KiB puts, 1 client');
    const puts1 = await lanesFor(1, ms, (_, i) => clients[0]!.put(distinct(`one-${i}`), `/small/one-${i}`).then(() => undefined));
    log('4 KiB puts, 16 clients');
    const puts16 = await lanesFor(16, ms, (lane, i) => clients[lane]!.put(distinct(`many-${lane}-${i}`), `/small/many-${lane}-${i}`).then(() => undefined));
    log('4 KiB appends to one file, 1 client');
    await clients[0]!.put(distinct('log-1'), '/log-1');
    const appends1 = await lanesFor(1, ms, () => clients[0]!.append('/log-1', data).then(() => undefined));
    log('4 KiB appends to one file, 16 clients');
    await clients[0]!.put(distinct('log-16'), '/log-16');
    const appends16 = await lanesFor(16, ms, (lane) => clients[lane]!.append('/log-16', data).then(() => undefined));
    const perFile = rate(appendsDisk);
    return [
      row('put 4 KiB files, 1 client', puts1, 'create+write+fsync 4 KiB, 1 writer', rate(files1), 0.25),
      row('put 4 KiB files, 16 clients', puts16, 'create+write+fsync 4 KiB, 16 writers', rate(files16), 1.0),
      row('append 4 KiB to one file, 1 client', appends1, 'write+fsync 4 KiB at the end of a file', perFile, 0.25),
      row('append 4 KiB to one file, 16 clients', appends16, 'write+fsync 4 KiB at the end of a file', perFile, 1.0),
    ];
  } finally {
    for (const c of clients) c.close();
  }
}
