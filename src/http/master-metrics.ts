import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { ClusterView } from './cluster-view.js';
import { RequestMetrics } from './request-metrics.js';

export interface MasterMetrics {
  readonly registry: Registry;
  readonly requests: RequestMetrics;
  /** For the re-replication loop's `onCopy`. */
  copy(phase: 'start' | 'end', bytes: number | null): void;
  /** For the HTTP side: one answered request. */
  http(route: string, status: number): void;
}

/** The master's registry: cluster state read from the view at scrape time, plus counters fed as things happen. */
export function masterMetrics(view: ClusterView, commands: readonly string[]): MasterMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new RequestMetrics(registry, 'master', new Set(commands));
  const serverGauge = new Gauge({ name: 'master_chunk_servers', help: 'Chunk servers by state (live, dead: seen live, now silent)', labelNames: ['state'], registers: [registry] });
  const chunkGauge = new Gauge({
    name: 'master_chunks_by_health',
    help: 'Chunks by live copies: at_factor (>= replication factor), under_replicated (fewer), lost (none live)',
    labelNames: ['health'],
    registers: [registry],
  });
  const plain = (name: string, help: string): Gauge => new Gauge({ name, help, registers: [registry] });
  const files = plain('master_files', 'Files in the namespace');
  const chunks = plain('master_chunks', 'Chunks in the namespace');
  const clients = plain('master_clients', 'Registered clients not yet timed out');
  const capacity = new Gauge({ name: 'master_capacity_bytes', help: 'Space of live chunk servers, by kind (total, used, free)', labelNames: ['kind'], registers: [registry] });
  new Gauge({
    name: 'master_replication_factor',
    help: 'Copies each chunk should have',
    registers: [registry],
    collect() {
      this.set(view.replicationFactor);
      const t = view.totals();
      serverGauge.set({ state: 'live' }, t.servers.live);
      serverGauge.set({ state: 'dead' }, t.servers.dead);
      for (const [health, n] of Object.entries(t.chunksByHealth)) chunkGauge.set({ health }, n);
      files.set(t.files);
      chunks.set(t.chunks);
      clients.set(t.clients);
      for (const [kind, n] of Object.entries(t.capacity)) capacity.set({ kind }, n);
    },
  });
  const inFlight = plain('master_replication_copies_in_flight', 'Re-replication copies under way');
  const copies = new Counter({ name: 'master_replication_copies_total', help: 'Re-replication copies finished, by outcome (ok, failed)', labelNames: ['outcome'], registers: [registry] });
  const copied = new Counter({ name: 'master_replication_copied_bytes_total', help: 'Bytes stored on targets by re-replication', registers: [registry] });
  const http = new Counter({ name: 'master_http_requests_total', help: 'HTTP requests answered, by route and status code', labelNames: ['route', 'code'], registers: [registry] });
  return {
    registry,
    requests,
    copy(phase, bytes) {
      if (phase === 'start') return void inFlight.inc();
      inFlight.dec();
      copies.inc({ outcome: bytes === null ? 'failed' : 'ok' });
      if (bytes !== null) copied.inc(bytes);
    },
    http(route, status) {
      http.inc({ route, code: String(status) });
    },
  };
}
