// What the server's figures are compared with, measured in the same run: the disk without our
// code, and loopback TCP without a disk.
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { BenchConn, oneShot, requestFrame, type BenchReply } from './bench-client.js';
import { now, pipelined, sequential, type Latencies, type Run } from './measure.js';

/** Each file: create, one write of `bytes`, fsync, close; as a chunk lands, minus our code. */
export async function diskBaseline(dir: string, buf: Buffer, ms: number, minOps: number): Promise<Run> {
  const bytes = buf.length;
  const paths: string[] = [];
  const run = await sequential(ms, minOps, async (i) => {
    const path = join(dir, `baseline-${bytes}-${i}`);
    paths.push(path);
    const fh = await open(path, 'w');
    try {
      await fh.write(buf, 0, bytes, 0);
      await fh.sync();
    } finally {
      await fh.close();
    }
    return bytes;
  });
  await Promise.all(paths.map((p) => unlink(p)));
  return run;
}

/**
 * What a durable small store and its read cost without any server: `workers` concurrent loops,
 * each creating a file the way the chunk store does (temp, write, fsync, rename, directory
 * fsync) and reading it back.
 */
export async function durableFilePairs(dir: string, data: Buffer, workers: number, ms: number, fsync: boolean): Promise<Latencies> {
  await mkdir(dir, { recursive: true });
  const dirHandle = await open(dir, 'r');
  const latencies: number[] = [];
  const start = now();
  try {
    await Promise.all(
      Array.from({ length: workers }, async (_, k) => {
        const buf = Buffer.allocUnsafe(data.length);
        for (let i = 0; now() - start < ms; i++) {
          const t0 = now();
          const temp = join(dir, `.t-${k}-${i}`);
          const path = join(dir, `f-${k}-${i}`);
          const fh = await open(temp, 'wx');
          await fh.write(data, 0, data.length, 0);
          if (fsync) await fh.sync();
          await fh.close();
          await rename(temp, path);
          if (fsync) await dirHandle.sync();
          const rh = await open(path, 'r');
          await rh.read(buf, 0, buf.length, 0);
          await rh.close();
          latencies.push(now() - t0);
        }
      }),
    );
  } finally {
    await dirHandle.close();
  }
  return { ms: latencies, seconds: (now() - start) / 1000 };
}

/** Replies of `bytes` from the baseline peer: one connection each, or `window` pipelined on one. */
export async function loopbackBaseline(port: number, bytes: number, ms: number, minOps: number, window: number | null): Promise<Run> {
  const req = requestFrame({ size: bytes });
  const check = (r: BenchReply): number => {
    if (r.dataBytes !== bytes) throw new Error(`baseline peer sent ${r.dataBytes} bytes`);
    return bytes;
  };
  if (window === null) return sequential(ms, minOps, async () => check(await oneShot(port, req)));
  const conn = await BenchConn.open(port);
  try {
    return await pipelined(ms, minOps, window, async () => check(await conn.request(req)));
  } finally {
    conn.close();
  }
}
