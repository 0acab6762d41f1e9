// Time from a holder's death (kill -9) to every chunk back at the replication factor, on a
// real cluster: a master and five chunk servers as child processes on 127.0.0.1, factor 3.
import { mkdir, writeFile } from 'node:fs/promises';
import { call } from '../src/net/rpc.js';
import { join } from 'node:path';
import { BufferPool } from '../src/wire/buffer-pool.js';
import { listening, MASTER_BIN, SERVER_BIN, startChild, stopChild, type Child } from './children.js';

const SERVERS = 5;
const FACTOR = 3;
const CHUNK_BYTES = 64 * 1024;
const FILE = '/heal-bench';
const pool = new BufferPool(0);
const OPTS = { connectTimeoutMs: 2000, idleTimeoutMs: 30_000 };

export interface HealSettings {
  chunks: number;
  heartbeatS: number;
  deadAfterS: number;
  replicationIntervalS: number;
  maxCopiesPerServer: number;
}

export interface HealFigures extends HealSettings {
  /** Chunks the killed server held. */
  onVictim: number;
  /** kill -9 to the master listing the server dead, ms. */
  detectMs: number;
  /** kill -9 to every chunk back at the factor on live servers, ms. */
  healMs: number;
  /** Afterwards, get_chunk_locations lists at least the factor of live holders for every chunk. */
  verified: boolean;
}

type Row = Record<string, unknown>;

async function status(port: number): Promise<Row> {
  return (await call(`127.0.0.1:${port}`, { command: 'cluster_status' }, OPTS, pool)) as Row;
}

async function until<V>(what: string, probe: () => Promise<V | undefined>, timeoutMs: number, everyMs = 50): Promise<V> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`heal bench: ${what} not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function measureHeal(dir: string, s: HealSettings): Promise<HealFigures> {
  await writeFile(
    join(dir, 'master.toml'),
    `[master]\nreplication_factor = ${FACTOR}\nheartbeat_interval = ${s.heartbeatS}\ndead_after_s = ${s.deadAfterS}\n` +
      `replication_interval = ${s.replicationIntervalS}\nmax_copies_per_server = ${s.maxCopiesPerServer}\n`,
  );
  await writeFile(join(dir, 'chunk.toml'), `[chunk_server]\nheartbeat_interval = ${s.heartbeatS}\nlog_level = "warn"\n`);
  const children: Child[] = [];
  try {
    const master = await startChild([MASTER_BIN, '--config', 'master.toml', '--host', '127.0.0.1', '--port', '0', '--metadata', 'meta.json', '--log_level', 'info'], listening('master listening'), 'master', { cwd: dir, startTimeoutMs: 30_000 });
    children.push(master);
    const servers: { child: Child; address: string }[] = [];
    for (let i = 0; i < SERVERS; i++) {
      const cwd = join(dir, `h${i + 1}`);
      await mkdir(cwd);
      const args = [SERVER_BIN, '--config', '../chunk.toml', '--server_id', `h${i + 1}`, '--data_dir', 'data', '--host', '127.0.0.1', '--master', `127.0.0.1:${master.port}`];
      args.push('--x', String((i * 97) % 100), '--y', String((i * 41) % 100), '--space', '512', '--log_level', 'info');
      const child = await startChild(args, listening('chunk server listening'), `chunk server h${i + 1}`, { cwd, startTimeoutMs: 30_000 });
      children.push(child);
      servers.push({ child, address: `127.0.0.1:${child.port}` });
    }
    await until('every server reported', async () => {
      const rows = (await status(master.port)).servers as Row[];
      return rows.filter((r) => r.state === 'live' && r.reports).length === SERVERS ? true : undefined;
    }, 60_000, 100);

    // Each server is the primary of a fifth of the chunks; the primary places the replicas.
    let next = 0;
    const store = async (): Promise<void> => {
      for (let i = next++; i < s.chunks; i = next++) {
        const data = Buffer.alloc(CHUNK_BYTES, i % 251);
        data.writeUInt32BE(i, 0);
        const r = await call(servers[i % SERVERS]!.address, { command: 'store_chunk', chunk_id: `hb-${i}`, file_path: FILE, chunk_index: i, data }, OPTS, pool);
        if (r.status !== 'ok') throw new Error(`store hb-${i}: ${String(r.message)}`);
      }
    };
    await Promise.all(Array.from({ length: 4 }, store));
    await until('every chunk at the factor', async () => {
      const c = (await status(master.port)).chunks as Row;
      return c.healthy === s.chunks && c.under_replicated === 0 ? true : undefined;
    }, 120_000, 100);

    const rows = (await status(master.port)).servers as Row[];
    const victimRow = rows.reduce((a, b) => ((b.chunks as number) > (a.chunks as number) ? b : a));
    const victim = servers.find((v) => v.address === victimRow.address)!;
    const t0 = performance.now();
    victim.child.proc.kill('SIGKILL');
    let detectMs = 0;
    await until('every chunk back at the factor', async () => {
      const st = await status(master.port);
      const row = (st.servers as Row[]).find((r) => r.address === victim.address);
      if (row?.state !== 'dead') return undefined;
      if (detectMs === 0) detectMs = performance.now() - t0;
      const c = st.chunks as Row;
      return c.under_replicated === 0 && c.lost === 0 ? true : undefined;
    }, 300_000, 50);
    const healMs = performance.now() - t0;

    let verified = true;
    for (let i = 0; i < s.chunks; i++) {
      const r = await call(`127.0.0.1:${master.port}`, { command: 'get_chunk_locations', file_path: FILE, chunk_id: `hb-${i}` }, OPTS, pool);
      const live = (r.locations as string[]).filter((a) => a !== victim.address);
      if (live.length < FACTOR) verified = false;
    }
    return { ...s, onVictim: victimRow.chunks as number, detectMs, healMs, verified };
  } finally {
    for (const c of children.reverse()) await stopChild(c);
  }
}
