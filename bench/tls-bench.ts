// [security] tls = "all" against plain TCP, in the same run (issue 26, Targets): two
// standalone chunk servers alike but for TLS, driven through the client library's call()
// with its kept connections (src/net/pool.ts), sampled in alternating rounds.
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConnectionPool } from '../src/net/pool.js';
import { call, type CallOptions, type Reply } from '../src/net/rpc.js';
import { BufferPool } from '../src/wire/buffer-pool.js';
import { ROOT } from './children.js';
import { MIB, now } from './measure.js';
import type { ComparedRow, TargetRow } from './row.js';

const STORE_BYTES = 64 * MIB;
const PAIR_BYTES = 4 * 1024;
const PAIR_CLIENTS = 8;
// The client's slabs: one 64 MiB reply body at a time, as the library keeps them.
const SLAB_BYTES = 2 * STORE_BYTES;

export interface TlsBenchOptions {
  readonly work: string;
  readonly rounds: number;
  readonly storeMs: number;
  readonly pairMs: number;
  /** Starts a chunk server (no master) with these extra arguments; resolves with its port. */
  readonly start: (dataDir: string, serverId: string, serverArgs: string[]) => Promise<number>;
  readonly log: (msg: string) => void;
}

/** One side of the comparison: a server's address and the client's way of calling it. */
interface Side {
  readonly address: string;
  readonly opts: CallOptions;
  readonly connections: ConnectionPool;
}

function expectOk(reply: Reply, what: string): void {
  if (reply.status !== 'ok') throw new Error(`${what}: ${String(reply.message)}`);
}

async function stores(side: Side, pool: BufferPool, data: Buffer, ms: number, tag: string): Promise<{ bytes: number; seconds: number }> {
  const start = now();
  let n = 0;
  while (now() - start < ms || n === 0) {
    expectOk(await call(side.address, { command: 'store_chunk', chunk_id: `${tag}-${n++}`, data }, side.opts, pool), 'store');
  }
  return { bytes: n * data.length, seconds: (now() - start) / 1000 };
}

async function pairs(side: Side, pool: BufferPool, data: Buffer, ms: number, tag: string): Promise<{ pairs: number; seconds: number }> {
  const start = now();
  let done = 0;
  await Promise.all(
    Array.from({ length: PAIR_CLIENTS }, async (_, k) => {
      for (let i = 0; now() - start < ms; i++) {
        const id = `${tag}-${k}-${i}`;
        expectOk(await call(side.address, { command: 'store_chunk', chunk_id: id, data }, side.opts, pool), 'pair store');
        expectOk(await call(side.address, { command: 'retrieve_chunk', chunk_id: id }, side.opts, pool), 'pair retrieve');
        done++;
      }
    }),
  );
  return { pairs: done, seconds: (now() - start) / 1000 };
}

export async function tlsComparison(o: TlsBenchOptions): Promise<Array<TargetRow | ComparedRow>> {
  const dir = join(o.work, 'tls');
  const certs = join(dir, 'certs');
  await mkdir(certs, { recursive: true });
  const made = spawnSync('sh', [join(ROOT, 'scripts', 'dev-certs.sh'), certs, 'bench'], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`dev-certs.sh failed: ${made.stderr}`);
  const config = join(dir, 'tls.toml');
  await writeFile(
    config,
    `[security]\ntls = "all"\ntls_cert_file = "${join(certs, 'bench.pem')}"\ntls_key_file = "${join(certs, 'bench.key')}"\ntls_ca_file = "${join(certs, 'ca.pem')}"\n`,
  );
  const offPort = await o.start(join(dir, 'data-off'), 'bench-tls-off', []);
  const onPort = await o.start(join(dir, 'data-on'), 'bench-tls-on', ['--config', config]);
  const side = (port: number, tls: CallOptions['tls']): Side => {
    const connections = new ConnectionPool({ maxIdlePerAddress: 2 * PAIR_CLIENTS, idleMs: 60_000 });
    return { address: `127.0.0.1:${port}`, connections, opts: { connectTimeoutMs: 10_000, idleTimeoutMs: 60_000, tls, connections } };
  };
  const off = side(offPort, undefined);
  const on = side(onPort, { ca: await readFile(join(certs, 'ca.pem')) });
  // What the kept connections save: the same TLS pairs with a handshake per request.
  const onFresh: Side = { ...on, opts: { ...on.opts, connections: undefined } };
  const pool = new BufferPool(SLAB_BYTES);

  o.log(`tls: ${o.rounds} alternating rounds of 64 MiB stores and 4 KiB pairs (${PAIR_CLIENTS} clients), plain and tls = "all"`);
  const big = randomBytes(STORE_BYTES);
  const small = randomBytes(PAIR_BYTES);
  // One unmeasured store of each size on each server first: fresh processes pay for their first touch of memory.
  for (const s of [off, on]) {
    await stores(s, pool, big, 0, 'warm');
    await pairs(s, pool, small, 50, 'warm');
  }
  const sum = { storeOff: [0, 0], storeOn: [0, 0], pairsOff: [0, 0], pairsOn: [0, 0], pairsFresh: [0, 0] };
  const add = (k: keyof typeof sum, n: number, s: number): void => void ((sum[k][0]! += n), (sum[k][1]! += s));
  for (let r = 0; r < o.rounds; r++) {
    let x = await stores(off, pool, big, o.storeMs, `off${r}`);
    add('storeOff', x.bytes / MIB, x.seconds);
    x = await stores(on, pool, big, o.storeMs, `on${r}`);
    add('storeOn', x.bytes / MIB, x.seconds);
    let p = await pairs(off, pool, small, o.pairMs, `off${r}`);
    add('pairsOff', p.pairs, p.seconds);
    p = await pairs(on, pool, small, o.pairMs, `on${r}`);
    add('pairsOn', p.pairs, p.seconds);
    p = await pairs(onFresh, pool, small, o.pairMs, `fresh${r}`);
    add('pairsFresh', p.pairs, p.seconds);
  }
  const handshakes = `${on.connections.opened} TLS connections for ${on.connections.opened + on.connections.reused} requests`;
  off.connections.close();
  on.connections.close();
  const rate = (k: keyof typeof sum): number => sum[k][0]! / sum[k][1]!;
  const row = (figure: string, unit: string, value: number, base: number, min: number): TargetRow => ({
    figure,
    value,
    unit,
    baseline: 'the same over plain TCP',
    baselineValue: base,
    ratio: value / base,
    target: `>= ${min} x plain`,
    met: value / base >= min,
    detail: handshakes,
  });
  return [
    row('store 64 MiB, tls = "all", kept connections', 'MiB/s', rate('storeOn'), rate('storeOff'), 0.7),
    row(`4 KiB store+retrieve pairs, ${PAIR_CLIENTS} clients, tls = "all", kept connections`, 'pairs/s', rate('pairsOn'), rate('pairsOff'), 0.8),
    {
      figure: `4 KiB store+retrieve pairs, ${PAIR_CLIENTS} clients, tls = "all", a connection (and handshake) per request`,
      value: rate('pairsFresh'),
      unit: 'pairs/s',
      baseline: 'kept connections over plain TCP',
      baselineValue: rate('pairsOff'),
      ratio: rate('pairsFresh') / rate('pairsOff'),
    },
  ];
}
