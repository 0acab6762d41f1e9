// Fixtures for the self-healing cluster tests: a master and N chunk servers as child
// processes with short beats, dead_after_s, repair passes and gc grace; probes of the
// master's view (cluster_status, holders) and of what the servers really hold.
import { chunkToml, masterToml, spawnChunk, spawnMaster, waitFor, writeToml, type ChildMaster } from './cluster-helpers.js';
import { call, type ChildServer, type Reply } from './helpers.js';

type T = { teardown(fn: () => unknown): void };

export type Chunk = ChildServer & { address: string; id: string };

export interface HealOptions {
  readonly servers?: number;
  readonly factor?: number;
  readonly gcGraceS?: number;
  readonly deadAfterS?: number;
  readonly maxCopies?: number;
  readonly masterExtra?: string;
}

export interface Healing {
  master: ChildMaster;
  readonly servers: Chunk[];
  readonly masterArgs: string[];
  readonly chunkConfig: string;
  readonly dir: string;
  /** Starts (or restarts, same id and port) chunk server `id`. */
  start(id: string, x?: number, y?: number): Promise<Chunk>;
}

export async function startHealing(t: T, dir: string, o: HealOptions = {}): Promise<Healing> {
  const factor = o.factor ?? 3;
  const mtoml = masterToml({
    extra:
      `replication_factor = ${factor}\ndead_after_s = ${o.deadAfterS ?? 1.5}\ngc_grace_s = ${o.gcGraceS ?? 3600}\n` +
      `max_copies_per_server = ${o.maxCopies ?? 2}\ninstruction_timeout_s = 20\n${o.masterExtra ?? ''}`,
  });
  const masterArgs = ['--config', await writeToml(dir, 'm.toml', mtoml), '--port', '0', '--metadata', 'meta.json'];
  const master = await spawnMaster(t, masterArgs, dir);
  masterArgs[3] = String(master.port);
  const chunkConfig = await writeToml(dir, 'c.toml', chunkToml({ extra: `chunk_report_interval_s = 30\n[master]\nreplication_factor = ${factor}\n` }));
  const h: Healing = {
    master,
    servers: [],
    masterArgs,
    chunkConfig,
    dir,
    async start(id, x, y) {
      const s = await spawnChunk(t, dir, { id, master: h.master.port, config: chunkConfig, x: x ?? 0, y: y ?? 0 });
      const c = { ...s, id };
      const i = h.servers.findIndex((e) => e.id === id);
      if (i >= 0) h.servers[i] = c;
      else h.servers.push(c);
      return c;
    },
  };
  // Spread over the map, so placement has locations to spread over.
  const n = o.servers ?? 5;
  for (let i = 0; i < n; i++) await h.start(`s${i + 1}`, (i * 97) % 100, (i * 41) % 100);
  await waitFor('every server reported', async () => {
    const st = await status(master.port);
    const rows = st.servers as Reply[];
    return rows.filter((r) => r.state === 'live' && r.reports).length === n ? true : undefined;
  }, 30_000, 100);
  return h;
}

export async function status(masterPort: number): Promise<Reply> {
  const r = await call(masterPort, { command: 'cluster_status' });
  if (r.status !== 'ok') throw new Error(`cluster_status: ${r.message}`);
  return r;
}

export async function locations(masterPort: number, file: string, chunkId: string): Promise<string[]> {
  return (await call(masterPort, { command: 'get_chunk_locations', file_path: file, chunk_id: chunkId })).locations as string[];
}

export function portOf(address: string): number {
  return Number(address.slice(address.lastIndexOf(':') + 1));
}

/** The chunk's bytes on the server at `address`, or null when it has none (or is unreachable). */
export async function bytesOn(address: string, chunkId: string): Promise<Buffer | null> {
  try {
    const r = await call(portOf(address), { command: 'retrieve_chunk', chunk_id: chunkId });
    return r.status === 'ok' ? Buffer.from(r.data as Buffer) : null;
  } catch {
    return null;
  }
}

/**
 * Waits until every chunk has `factor` holders listed by the master, each a live server
 * (not in `gone`) that really holds the expected bytes.
 */
export async function waitAtFactor(
  masterPort: number,
  file: string,
  chunks: ReadonlyMap<string, Buffer>,
  factor: number,
  gone: ReadonlySet<string> = new Set(),
  timeoutMs = 90_000,
): Promise<Map<string, string[]>> {
  return waitFor('every chunk back at the factor', async () => {
    const out = new Map<string, string[]>();
    for (const [id, data] of chunks) {
      const where = (await locations(masterPort, file, id)).filter((a) => !gone.has(a));
      if (where.length < factor) return undefined;
      for (const a of where.slice(0, factor)) if (!(await bytesOn(a, id))?.equals(data)) return undefined;
      out.set(id, where);
    }
    return out;
  }, timeoutMs, 200);
}
