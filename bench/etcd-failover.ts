// Failover under load (issue 24's first target): three etcd members, three masters, three
// chunk servers on 127.0.0.1; clients put and append without pause through the client
// library (every master listed); the leader is killed with SIGKILL, the time to the first
// put acknowledged by the new leader is taken, the killed master is restarted as a standby,
// and again. At the end every acknowledged file and append is checked.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GfsClient } from '../src/client/index.js';
import { SERVER_BIN, startChild, stopChild, listening, type Child } from './children.js';
import { leaderOf, masterConfig, newMasters, startEtcd, startMaster } from './etcd-cluster.js';
import { payload } from './measure.js';

export interface FailoverOptions {
  kills: number;
  putters: number;
  appenders: number;
  /** TOML lines added under [master] (etcd_lease_ttl_s and the like); empty: the defaults. */
  masterToml: string;
  /** TOML lines added under [chunk_server]; empty: the defaults. */
  chunkToml: string;
  nodeArgs: string[];
  log: (s: string) => void;
}

export interface KillFigures {
  /** SIGKILL of the leader to the first put started after it and acknowledged (by the new leader). */
  putMs: number;
  /** SIGKILL to a new leader saying so in master_status. */
  electedMs: number;
  /** The longest pause between two acknowledged appends around the kill. */
  appendGapMs: number;
}

export interface FailoverFigures {
  kills: KillFigures[];
  puts: number;
  appends: number;
  failedOps: number;
  /** Acknowledged files or appended bytes not found whole afterwards. */
  missing: string[];
}

const PUT_BYTES = 64 * 1024;
const APPEND_BYTES = 4 * 1024;
const CHUNK_BYTES = 1024 * 1024;
// A client that hits a dead master or an election retries after this.
const RETRY_MS = 50;
// Writes keep going this long after a failover before the next kill, so each kill meets a steady stream.
const SETTLE_MS = 3000;
const FAILOVER_GIVE_UP_MS = 120_000;

interface Op {
  kind: 'put' | 'append';
  startedAt: number;
  ackedAt: number;
}

export async function measureFailover(dir: string, o: FailoverOptions): Promise<FailoverFigures> {
  const etcd = await startEtcd(dir, 3);
  const masters = await newMasters(3);
  const servers: Child[] = [];
  const clients: GfsClient[] = [];
  let running = true;
  const workers: Promise<void>[] = [];
  try {
    const config = await masterConfig(dir, `[master]\netcd_endpoints = [${etcd.endpoints.map((e) => JSON.stringify(e)).join(', ')}]\netcd_prefix = "/bench"\n${o.masterToml}`);
    for (const m of masters) await startMaster(dir, config, m, o.nodeArgs);
    const first = await leaderOf(masters);
    o.log(`etcd ${etcd.endpoints.join(',')}; masters ${masters.map((m) => m.address).join(',')}; ${first.address} leads`);
    for (let i = 0; i < 3; i++) {
      const sdir = join(dir, `s${i + 1}`);
      await mkdir(sdir, { recursive: true });
      const others = masters.filter((m) => m !== first).map((m) => JSON.stringify(m.address));
      await writeFile(join(sdir, 'chunk.toml'), `[chunk_server]\nother_masters = [${others.join(', ')}]\n${o.chunkToml}`);
      const args = [SERVER_BIN, '--config', join(sdir, 'chunk.toml'), '--server_id', `s${i + 1}`, '--data_dir', join(sdir, 'data'), '--master', first.address];
      args.push('--host', '127.0.0.1', '--port', '0', '--space', '4096', '--x', String(10 * i), '--y', '10', '--log_level', 'info');
      servers.push(await startChild(args, listening('chunk server listening'), `chunk server s${i + 1}`, { cwd: sdir, startTimeoutMs: 120_000 }));
    }

    const ops: Op[] = [];
    let failedOps = 0;
    const puts = new Map<string, number>();
    const appended = new Map<string, number>();
    const all = masters.map((m) => m.address).join(',');
    const client = (): GfsClient => {
      const c = new GfsClient({ master: all, chunkSize: CHUNK_BYTES, timeoutMs: 15_000, connectTimeoutMs: 1000 });
      clients.push(c);
      return c;
    };
    const loop = (kind: 'put' | 'append', k: number) => {
      const c = client();
      const data = payload(kind === 'put' ? PUT_BYTES : APPEND_BYTES, k);
      const file = `/append/${k}`;
      return (async () => {
        for (let i = 0; running; i++) {
          const startedAt = performance.now();
          try {
            if (kind === 'put') {
              await c.put(data, `/put/${k}/${i}`);
              puts.set(`/put/${k}/${i}`, PUT_BYTES);
            } else {
              await c.append(file, data);
              appended.set(file, (appended.get(file) ?? 0) + APPEND_BYTES);
            }
            ops.push({ kind, startedAt, ackedAt: performance.now() });
          } catch {
            failedOps++;
            await new Promise((r) => setTimeout(r, RETRY_MS));
          }
        }
      })();
    };
    for (let k = 0; k < o.putters; k++) workers.push(loop('put', k));
    for (let k = 0; k < o.appenders; k++) workers.push(loop('append', k));
    await waitFor('the first puts and appends', () => ops.some((p) => p.kind === 'put') && (o.appenders === 0 || ops.some((p) => p.kind === 'append')));
    await new Promise((r) => setTimeout(r, SETTLE_MS));

    const kills: KillFigures[] = [];
    for (let n = 0; n < o.kills; n++) {
      const leader = await leaderOf(masters);
      const killedAt = performance.now();
      leader.child!.proc.kill('SIGKILL');
      await leader.child!.exited;
      leader.child = null;
      const elected = await leaderOf(masters, FAILOVER_GIVE_UP_MS);
      const electedMs = performance.now() - killedAt;
      const put = await waitFor('a put acknowledged by the new leader', () => ops.find((p) => p.kind === 'put' && p.startedAt >= killedAt));
      await startMaster(dir, config, leader, o.nodeArgs);
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      const acks = ops.filter((p) => p.kind === 'append' && p.ackedAt >= killedAt - SETTLE_MS).map((p) => p.ackedAt);
      const appendGapMs = Math.max(0, ...acks.slice(1).map((t, i) => t - acks[i]!));
      kills.push({ putMs: put.ackedAt - killedAt, electedMs, appendGapMs });
      o.log(`kill ${n + 1}/${o.kills}: ${leader.address} -> ${elected.address}: elected after ${(electedMs / 1000).toFixed(2)} s, first put acknowledged after ${((put.ackedAt - killedAt) / 1000).toFixed(2)} s, longest pause between appends ${(appendGapMs / 1000).toFixed(2)} s`);
    }
    running = false;
    await Promise.all(workers);

    const check = clients[0]!;
    const missing: string[] = [];
    for (const [path, size] of [...puts, ...appended]) {
      const st = await check.stat(path).catch(() => null);
      if (!st || st.size < size || (path.startsWith('/put/') && st.size !== size)) missing.push(`${path}: acknowledged ${size} bytes, found ${st?.size ?? 'no file'}`);
    }
    return { kills, puts: ops.filter((p) => p.kind === 'put').length, appends: ops.filter((p) => p.kind === 'append').length, failedOps, missing };
  } finally {
    running = false;
    await Promise.allSettled(workers);
    for (const c of clients) c.close();
    for (const s of servers) await stopChild(s);
    for (const m of masters) if (m.child) await stopChild(m.child);
    etcd.stop();
  }
}

async function waitFor<V>(what: string, probe: () => V | undefined | false): Promise<V> {
  const deadline = performance.now() + FAILOVER_GIVE_UP_MS;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (performance.now() > deadline) throw new Error(`no ${what} within ${FAILOVER_GIVE_UP_MS} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
