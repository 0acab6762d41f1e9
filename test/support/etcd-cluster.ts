// Several real masters over a real etcd, with real chunk servers that follow the leader:
// the cluster the tests of failover behaviour start (test/e2e/etcd/).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { spawnChunk } from './cluster.js';
import { chunkToml, masterToml, writeToml } from './configs.js';
import { startEtcd, type EtcdCluster } from './etcd.js';
import { call } from './frames.js';
import { spawnMaster, type ChildServer } from './processes.js';
import { tempDir, type Teardown } from './temp.js';
import { waitFor } from './waits.js';

export interface EtcdMastersOptions {
  readonly masters: number;
  /** Chunk servers s1, s2, ... (pointed at the first master, their other_masters list the rest). */
  readonly servers?: number;
  readonly beatS?: number;
  /** TOML lines appended to the masters' [master] table (after the etcd keys). */
  readonly master?: string;
  /** TOML appended to the servers' config, after its [chunk_server] lines. */
  readonly chunk?: string;
}

export interface EtcdMasters {
  readonly dir: string;
  readonly etcd: EtcdCluster;
  readonly masters: ChildServer[];
  readonly servers: ChildServer[];
  /** Starts another master, on the namespace directory `name` (an empty one when new). */
  startMaster(name: string): Promise<ChildServer>;
}

/** Whether `m` serves as leader (asked as a client that follows not_leader, so a standby does not proxy). */
export async function serves(m: ChildServer): Promise<boolean> {
  return (await call(m.port, { command: 'list_files', follows_leader: true }).catch(() => null))?.status === 'ok';
}

/** The one of `masters` that serves; polls until one does. */
export function leaderOf(masters: ChildServer[]): Promise<ChildServer> {
  return waitFor('a leader', async () => {
    for (const m of masters) if (m.proc.exitCode === null && m.proc.signalCode === null && (await serves(m))) return m;
    return undefined;
  });
}

export async function startEtcdMasters(t: Teardown, o: EtcdMastersOptions): Promise<EtcdMasters> {
  const dir = await tempDir(t, 'etcd-masters-');
  const etcd = await startEtcd(t, dir);
  const beatS = o.beatS ?? 0.5;
  const etcdKeys = `etcd_endpoints = ${etcd.toml}\netcd_prefix = "/ops"\netcd_lease_ttl_s = 2\n`;
  const mconfig = await writeToml(dir, 'master.toml', masterToml({ beatS, extra: etcdKeys + (o.master ?? '') }));
  const startMaster = (name: string) => spawnMaster(t, ['--config', mconfig, '--port', '0', '--namespace', join(dir, name), '--metadata', join(dir, `${name}.json`)], dir);
  const masters: ChildServer[] = [];
  for (let i = 0; i < o.masters; i++) masters.push(await startMaster(`m${i + 1}`));
  // Beside --master (the first): a master listed twice would be retried instead of the next.
  const others = masters.slice(1).map((m) => JSON.stringify(m.address)).join(', ');
  const cconfig = await writeToml(dir, 'chunk.toml', chunkToml({ beatS, extra: `other_masters = [${others}]\n${o.chunk ?? ''}` }));
  const servers = await Promise.all(
    Array.from({ length: o.servers ?? 0 }, async (_, i) => {
      const sdir = join(dir, `s${i + 1}`);
      await mkdir(sdir);
      return spawnChunk(t, sdir, { id: `s${i + 1}`, master: masters[0]!.port, config: cconfig, x: 10 * (i + 1), y: 10 });
    }),
  );
  return { dir, etcd, masters, servers, startMaster };
}
