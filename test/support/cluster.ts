// The one way to start a cluster of real processes: a master and chunk servers, each a
// child process in its own directory, all live and reported before the test goes on.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BEAT_S, chunkToml, masterToml, writeToml } from './configs.js';
import { waitForReports } from './cluster-probes.js';
import { runGfs, spawnMaster, spawnServer, type ChildServer, type Run, type RunOptions } from './processes.js';
import { tempDir, type Teardown } from './temp.js';

export interface ChunkOptions {
  readonly id: string;
  readonly master: number;
  readonly config: string;
  readonly x?: number;
  readonly y?: number;
  readonly spaceMb?: number;
  readonly extra?: string[];
}

/** A chunk server joined to the master on `master` port, data under `<cwd>/data/<id>`. */
export function spawnChunk(t: Teardown, cwd: string, o: ChunkOptions): Promise<ChildServer> {
  const args = ['--config', o.config, '--server_id', o.id, '--data_dir', 'data', '--master', `127.0.0.1:${o.master}`];
  args.push('--x', String(o.x ?? 0), '--y', String(o.y ?? 0), '--space', String(o.spaceMb ?? 64), ...(o.extra ?? []));
  return spawnServer(t, args, cwd);
}

export interface ClusterOptions {
  /** How many chunk servers: s1, s2, ... */
  readonly servers?: number;
  readonly spaceMb?: number;
  /** Heartbeat interval of the master and the servers, in s. */
  readonly beatS?: number;
  /** TOML lines appended to the master's [master] table. */
  readonly master?: string;
  /** TOML appended to the servers' config, after its [chunk_server] lines. */
  readonly chunk?: string;
  /** Where the i-th server (from 0) stands on the map: by default in a row, 10 apart at y = 10. */
  readonly place?: (i: number) => [number, number];
}

export type Member = ChildServer & { readonly id: string; readonly dir: string };

export interface Cluster {
  readonly base: string;
  master: ChildServer;
  readonly servers: Member[];
  /** Starts (or restarts: same id, directory and place, a new port) chunk server `id`. */
  start(id: string): Promise<Member>;
  /** Starts the master again on its port, from its store (after the test stopped it). */
  restartMaster(): Promise<ChildServer>;
  /** `gfs --master <this master> ...args`, run in `base`. */
  gfs(args: string[], o?: RunOptions): Promise<Run>;
}

// Heartbeats every second: a loaded machine running the whole suite never misses two.
const CLUSTER_BEAT_S = 1;

export async function startCluster(t: Teardown, o: ClusterOptions = {}): Promise<Cluster> {
  const beatS = o.beatS ?? CLUSTER_BEAT_S;
  const base = await tempDir(t, 'cluster-test-');
  const masterArgs = ['--config', await writeToml(base, 'm.toml', masterToml({ beatS, extra: o.master })), '--port', '0', '--metadata', 'meta.json'];
  const master = await spawnMaster(t, masterArgs, base);
  masterArgs[3] = String(master.port);
  const config = await writeToml(base, 'c.toml', chunkToml({ beatS, extra: o.chunk }));
  const servers: Member[] = [];
  const spawnMember = async (id: string, i: number): Promise<Member> => {
    const [x, y] = (o.place ?? inRow)(i);
    const dir = join(base, id);
    await mkdir(dir, { recursive: true });
    return { ...(await spawnChunk(t, dir, { id, master: c.master.port, config, x, y, spaceMb: o.spaceMb })), id, dir };
  };
  const c: Cluster = {
    base,
    master,
    servers,
    async start(id) {
      const i = servers.findIndex((s) => s.id === id);
      const s = await spawnMember(id, i >= 0 ? i : servers.length);
      if (i >= 0) servers[i] = s;
      else servers.push(s);
      return s;
    },
    async restartMaster() {
      c.master = await spawnMaster(t, masterArgs, base);
      return c.master;
    },
    gfs: (args, opts) => runGfs(['--master', c.master.address, ...args], { cwd: base, ...opts }),
  };
  const ids = Array.from({ length: o.servers ?? 3 }, (_, i) => `s${i + 1}`);
  servers.push(...(await Promise.all(ids.map((id, i) => spawnMember(id, i)))));
  await waitForReports(master.port, servers.map((s) => s.address));
  return c;
}

const inRow = (i: number): [number, number] => [10 * (i + 1), 10];

/** Spread over the map, so placement has locations to choose among. */
const spread = (i: number): [number, number] => [(i * 97) % 100, (i * 41) % 100];

/** A cluster that heals itself quickly: five servers, fast beats, deaths and repair passes. */
export function healing(o: { factor?: number; gcGraceS?: number; deadAfterS?: number; maxCopies?: number } = {}): ClusterOptions {
  const factor = o.factor ?? 3;
  return {
    servers: 5,
    beatS: BEAT_S,
    place: spread,
    master:
      `replication_factor = ${factor}\ndead_after_s = ${o.deadAfterS ?? 1.5}\ngc_grace_s = ${o.gcGraceS ?? 3600}\n` +
      `max_copies_per_server = ${o.maxCopies ?? 2}\ninstruction_timeout_s = 20\n`,
    chunk: `chunk_report_interval_s = 30\n[master]\nreplication_factor = ${factor}\n`,
  };
}

/** Where a member keeps a chunk's file. */
export function chunkPath(s: Member, chunkId: string): string {
  return join(s.dir, 'data', s.id, chunkId);
}
