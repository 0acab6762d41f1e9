import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { ClusterTotals, ClusterView } from './cluster-view.js';
import { RequestMetrics } from '../../http/request-metrics.js';

export interface MasterMetrics {
  readonly registry: Registry;
  readonly requests: RequestMetrics;
  /** For the HTTP side: one answered request. */
  http(route: string, status: number): void;
}

/** The master's registry: cluster state read from the view at scrape time, plus counters fed as things happen. */
export function masterMetrics(view: ClusterView, commands: readonly string[], status: () => Record<string, unknown>): MasterMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
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
  const http = new Counter({ name: 'master_http_requests_total', help: 'HTTP requests answered, by route and status code', labelNames: ['route', 'code'], registers: [registry] });
  return {
    registry,
    requests,
    http(route, code) {
      http.inc({ route, code: String(code) });
    },
  };
}
