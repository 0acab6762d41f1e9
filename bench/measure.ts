// How the benchmarks time work: operations back to back or pipelined for a while, latency
// percentiles, rates, and payloads that are already paged in.
export const KIB = 1024;
export const MIB = 1024 * KIB;

export const now = (): number => performance.now();

/** Operations of one sample: how many, their bytes, and the time they took together. */
export interface Run {
  ops: number;
  bytes: number;
  seconds: number;
}

/** Runs `op` back to back until `ms` have passed and at least `minOps` ran. */
export async function sequential(ms: number, minOps: number, op: (i: number) => Promise<number>): Promise<Run> {
  const start = now();
  let ops = 0;
  let bytes = 0;
  while (now() - start < ms || ops < minOps) {
    const n = await op(ops++);
    bytes += n;
  }
  return { ops, bytes, seconds: (now() - start) / 1000 };
}

/** Keeps `window` operations in flight until `ms` have passed and at least `minOps` were issued. */
export async function pipelined(ms: number, minOps: number, window: number, op: (i: number) => Promise<number>): Promise<Run> {
  const start = now();
  let issued = 0;
  let bytes = 0;
  const lanes = Array.from({ length: window }, async () => {
    while (now() - start < ms || issued < minOps) {
      // Not `bytes += await ...`: that reads `bytes` before the await and loses other lanes' adds.
      const n = await op(issued++);
      bytes += n;
    }
  });
  await Promise.all(lanes);
  return { ops: issued, bytes, seconds: (now() - start) / 1000 };
}

/** All samples of a figure together: total bytes over total time. */
export function combined(runs: Run[]): Run {
  return runs.reduce((a, b) => ({ ops: a.ops + b.ops, bytes: a.bytes + b.bytes, seconds: a.seconds + b.seconds }));
}

export const mibPerS = (r: Run): number => r.bytes / MIB / r.seconds;

/** `p` in percent, of values sorted ascending. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Each completed operation's latency (ms), and the time they took together. */
export interface Latencies {
  ms: number[];
  seconds: number;
}

export function summary(runs: Latencies[]): { rate: number; p50: number; p99: number } {
  const all = runs.flatMap((r) => r.ms).sort((a, b) => a - b);
  const seconds = runs.reduce((sum, r) => sum + r.seconds, 0);
  return { rate: all.length / seconds, p50: percentile(all, 50), p99: percentile(all, 99) };
}

/** CPU used per second of a run, as a share of one core, split user / kernel. */
export function cpuShare(cpu: { user: number; system: number }, runs: Latencies[]): string {
  const seconds = runs.reduce((sum, r) => sum + r.seconds, 0);
  const pct = (s: number): string => `${((100 * s) / seconds).toFixed(0)} %`;
  return `${pct(cpu.user + cpu.system)} of a core (user ${pct(cpu.user)}, kernel ${pct(cpu.system)})`;
}

/** A payload that has been written once already, so first-touch page faults are not timed. */
export function payload(bytes: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(bytes);
  for (let i = 0; i < bytes; i += 4) b.writeUInt32LE((Math.imul(i + 1, 2654435761) ^ seed) >>> 0, i);
  return b;
}
