// Authentication on against off, in the same run: two chunk servers alike but for
// [security] (client_auth = "all": every store and retrieve is signed by the client and
// verified by the server), sampled in alternating rounds.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { signedFrame, type Credential } from '../src/auth/signer.js';
import type { Piece } from '../src/wire/payload.js';
import { BenchConn, expectOk, requestFrame } from './bench-client.js';
import { MIB, now } from './measure.js';
import type { TargetRow } from './row.js';

const STORE_BYTES = 64 * MIB;
const PAIR_BYTES = 4 * 1024;
const PAIR_CLIENTS = 8;

export type AuthBenchRow = TargetRow;

export interface AuthBenchOptions {
  readonly work: string;
  readonly rounds: number;
  readonly storeMs: number;
  readonly pairMs: number;
  /** Starts a chunk server (no master) with these extra arguments; resolves with its port. */
  readonly start: (dataDir: string, serverId: string, serverArgs: string[]) => Promise<number>;
  readonly log: (msg: string) => void;
}

/** A request's pieces, signed or not. */
type Framer = (fields: Record<string, unknown>, data?: Buffer) => Piece[];
const plain: Framer = (fields, data) => requestFrame(fields, data);
const signedBy = (cred: Credential): Framer => (fields, data) => signedFrame(data ? { ...fields, data } : fields, cred);

async function stores(port: number, frame: Framer, data: Buffer, ms: number, tag: string): Promise<{ bytes: number; seconds: number }> {
  const start = now();
  let n = 0;
  while (now() - start < ms || n === 0) {
    const conn = await BenchConn.open(port);
    try {
      expectOk(await conn.requestPieces(frame({ command: 'store_chunk', chunk_id: `${tag}-${n++}`, file_path: '/bench/auth' }, data)), 'store');
    } finally {
      conn.close();
    }
  }
  return { bytes: n * data.length, seconds: (now() - start) / 1000 };
}

async function pairs(port: number, frame: Framer, data: Buffer, ms: number, tag: string): Promise<{ pairs: number; seconds: number }> {
  const start = now();
  let done = 0;
  await Promise.all(
    Array.from({ length: PAIR_CLIENTS }, async (_, k) => {
      const conn = await BenchConn.open(port);
      try {
        for (let i = 0; now() - start < ms; i++) {
          const id = `${tag}-${k}-${i}`;
          expectOk(await conn.requestPieces(frame({ command: 'store_chunk', chunk_id: id }, data)), 'pair store');
          expectOk(await conn.requestPieces(frame({ command: 'retrieve_chunk', chunk_id: id })), 'pair retrieve');
          done++;
        }
      } finally {
        conn.close();
      }
    }),
  );
  return { pairs: done, seconds: (now() - start) / 1000 };
}

export async function authComparison(o: AuthBenchOptions): Promise<AuthBenchRow[]> {
  const dir = join(o.work, 'auth');
  await mkdir(join(dir, 'clients'), { recursive: true });
  const clientKey = randomBytes(32).toString('hex');
  await writeFile(join(dir, 'cluster.key'), `${randomBytes(32).toString('hex')}\n`);
  await writeFile(join(dir, 'clients', 'bench.key'), `${clientKey}\n`);
  const config = join(dir, 'auth.toml');
  await writeFile(config, `[security]\ncluster_key_file = "${join(dir, 'cluster.key')}"\nclient_auth = "all"\nclient_keys_dir = "${join(dir, 'clients')}"\n`);
  const offPort = await o.start(join(dir, 'data-off'), 'bench-auth-off', []);
  const onPort = await o.start(join(dir, 'data-on'), 'bench-auth-on', ['--config', config]);
  const signed = signedBy({ id: 'bench', key: Buffer.from(clientKey) });

  o.log(`auth: ${o.rounds} alternating rounds of 64 MiB stores and 4 KiB pairs (${PAIR_CLIENTS} clients), off and on`);
  const big = randomBytes(STORE_BYTES);
  const small = randomBytes(PAIR_BYTES);
  // One unmeasured store of each size on each server first: fresh processes pay for their first touch of memory.
  for (const [port, frame] of [[offPort, plain], [onPort, signed]] as const) {
    await stores(port, frame, big, 0, `warm${port}`);
    await pairs(port, frame, small, 50, `warm${port}`);
  }
  const sum = { storeOff: [0, 0], storeOn: [0, 0], pairsOff: [0, 0], pairsOn: [0, 0] };
  const add = (k: keyof typeof sum, n: number, s: number): void => void ((sum[k][0]! += n), (sum[k][1]! += s));
  for (let r = 0; r < o.rounds; r++) {
    let x = await stores(offPort, plain, big, o.storeMs, `off${r}`);
    add('storeOff', x.bytes / MIB, x.seconds);
    x = await stores(onPort, signed, big, o.storeMs, `on${r}`);
    add('storeOn', x.bytes / MIB, x.seconds);
    let p = await pairs(offPort, plain, small, o.pairMs, `off${r}`);
    add('pairsOff', p.pairs, p.seconds);
    p = await pairs(onPort, signed, small, o.pairMs, `on${r}`);
    add('pairsOn', p.pairs, p.seconds);
  }
  const rate = (k: keyof typeof sum): number => sum[k][0]! / sum[k][1]!;
  const row = (figure: string, unit: string, on: number, off: number): AuthBenchRow => ({
    figure,
    value: on,
    unit,
    baseline: 'the same with authentication off',
    baselineValue: off,
    ratio: on / off,
    target: '>= 85 % of off',
    met: on / off >= 0.85,
  });
  return [
    row('store 64 MiB, connection per request, client_auth = "all"', 'MiB/s', rate('storeOn'), rate('storeOff')),
    row(`4 KiB store+retrieve pairs, ${PAIR_CLIENTS} clients, client_auth = "all"`, 'pairs/s', rate('pairsOn'), rate('pairsOff')),
  ];
}
