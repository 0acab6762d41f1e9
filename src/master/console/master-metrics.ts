import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ClusterTotals, ClusterView } from './cluster-view.js';
import type { CopyCounts } from '../pending-copies.js';
import { registerBuildInfo } from '../../http/build-info.js';
import { RequestMetrics } from '../../http/request-metrics.js';

// Seconds: from a cached /api/state (~1 ms) to a large upload or download through the console.
const HTTP_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
// Routes whose response lasts as long as the reader listens: their time is not a latency.
const STREAM_ROUTES: ReadonlySet<string> = new Set(['/api/events']);

export interface MasterMetrics {
  readonly registry: Registry;
  readonly requests: RequestMetrics;
  /** For the HTTP side: one answered request and how long it took. */
  http(route: string, status: number, seconds: number): void;
}

/** The master's registry: cluster state read from the view at scrape time, plus counters fed as things happen. */
export function masterMetrics(view: ClusterView, commands: readonly string[], status: () => Record<string, unknown>, copies: () => CopyCounts): MasterMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  registerBuildInfo(registry, 'master');
  const requests = new RequestMetrics(registry, 'master', new Set(commands));
  // Each gauge reads the view when scraped (a registry collects gauges one by one, in order).
  const gauge = (name: string, help: string, labelNames: string[], set: (g: Gauge, t: ClusterTotals) => void): void => {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        set(this, view.totals());
      },
    });
  };
  gauge('master_chunk_servers', 'Chunk servers by state (live; dead: a known member, now silent, until forgotten; decommissioning: being emptied, as cluster_status says)', ['state'], (g, t) => {
    for (const [state, n] of Object.entries(t.servers)) g.set({ state }, n);
  });
  gauge('master_chunks_by_health', 'Chunks by live copies: at_factor (>= replication factor), under_replicated (fewer), lost (none live)', ['health'], (g, t) => {
    for (const [health, n] of Object.entries(t.chunksByHealth)) g.set({ health }, n);
  });
  gauge('master_files', 'Files in the namespace', [], (g, t) => g.set(t.files));
  gauge('master_chunks', 'Chunks in the namespace', [], (g, t) => g.set(t.chunks));
  gauge('master_clients', 'Registered clients not yet timed out', [], (g, t) => g.set(t.clients));
  gauge('master_capacity_bytes', 'Space of live chunk servers, by kind (total, used, free)', ['kind'], (g, t) => {
    for (const [kind, n] of Object.entries(t.capacity)) g.set({ kind }, n);
  });
  gauge('master_replication_factor', 'Copies each chunk should have', [], (g) => g.set(view.replicationFactor));
  const plain = (name: string, help: string): Gauge => new Gauge({ name, help, registers: [registry] });
  // The repair scheduler's own counts (cluster_status), read when scraped.
  const chunkStatus = (key: string): number => {
    const chunks = (status().chunks ?? {}) as Record<string, unknown>;
    return typeof chunks[key] === 'number' ? (chunks[key] as number) : 0;
  };
  const fromStatus = (name: string, help: string, key: string): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(chunkStatus(key));
      },
    });
  };
  fromStatus('master_replication_copies_in_flight', 'Copies between chunk servers under way (repair)', 'copies_in_flight');
  fromStatus('master_chunks_stale_replicas', 'Copies held at an older version than the current one', 'stale_replicas');
  fromStatus('master_chunks_orphaned', 'Chunks reported by servers that no file lists', 'orphaned');
  fromStatus('master_chunk_deletes_pending', 'Delete instructions not yet seen done', 'deletes_pending');
  new Gauge({
    name: 'master_chunk_server_heartbeat_age_seconds',
    help: 'Seconds since each chunk server this master has seen last sent a heartbeat (grows while it is silent)',
    labelNames: ['server'],
    registers: [registry],
    collect() {
      // Rebuilt each scrape: the label set is the view's servers (bounded by max_servers), never stale ones.
      this.reset();
      const now = Date.now();
      for (const s of view.servers()) if (s.last_heartbeat_ms !== null) this.set({ server: s.address }, Math.max(0, now - s.last_heartbeat_ms) / 1000);
    },
  });
  repairCounters(registry, copies);
  const http = new Counter({ name: 'master_http_requests_total', help: 'HTTP requests answered, by route and status code', labelNames: ['route', 'code'], registers: [registry] });
  const httpLatency = new Histogram({
    name: 'master_http_request_duration_seconds',
    help: 'Time from an HTTP request to the end of its response, by route (event streams left out)',
    labelNames: ['route'],
    buckets: HTTP_BUCKETS_S,
    registers: [registry],
  });
  return {
    registry,
    requests,
    http(route, code, seconds) {
      http.inc({ route, code: String(code) });
      if (!STREAM_ROUTES.has(route)) httpLatency.observe({ route }, seconds);
    },
  };
}

/** master_repair_copies_total{result}: the scheduler's own counts, fed at scrape time as the bytes counters are. */
function repairCounters(registry: Registry, copies: () => CopyCounts): void {
  const reported: CopyCounts = { started: 0, done: 0, failed: 0 };
  const counter = new Counter({
    name: 'master_repair_copies_total',
    help: 'Repair copies between chunk servers: started (instructed), done (seen landed), failed (refused, timed out, or a server gone)',
    labelNames: ['result'],
    registers: [registry],
    collect() {
      const now = copies();
      for (const result of ['started', 'done', 'failed'] as const) {
        this.inc({ result }, Math.max(0, now[result] - reported[result]));
        reported[result] = Math.max(reported[result], now[result]);
      }
    },
  });
  for (const result of ['started', 'done', 'failed']) counter.inc({ result }, 0);
}
