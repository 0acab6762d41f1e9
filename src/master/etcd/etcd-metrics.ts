import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ProxyOutcome } from './leader-proxy.js';
import type { Replication } from './replicated.js';

// Seconds of one journal transaction: a local etcd fsyncs in ~4 ms, a loaded one in 100s of ms.
const JOURNAL_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** Leadership and etcd latency of a master over etcd (docs/operating.md, metrics table). */
export function registerEtcdMetrics(registry: Registry, replication: Replication): void {
  const { leadership } = replication;
  new Gauge({
    name: 'master_leader',
    help: '1 while this master leads (serving), 0 while it stands by',
    registers: [registry],
    collect() {
      this.set(leadership.isLeader() ? 1 : 0);
    },
  });
  const changes = new Counter({ name: 'master_leadership_changes_total', help: 'Times this master became leader (elected) or stopped leading (stepped_down)', labelNames: ['event'], registers: [registry] });
  changes.inc({ event: 'elected' }, 0);
  changes.inc({ event: 'stepped_down' }, 0);
  leadership.on('elected', () => changes.inc({ event: 'elected' }));
  leadership.on('stepped-down', () => changes.inc({ event: 'stepped_down' }));
  const journal = new Histogram({ name: 'master_etcd_journal_seconds', help: 'Time of one journal transaction in etcd (several changes share one), by outcome', labelNames: ['outcome'], buckets: JOURNAL_BUCKETS_S, registers: [registry] });
  replication.onJournalWrite((seconds, outcome) => journal.observe({ outcome }, seconds));
}

/**
 * A standby's proxying for clients that do not follow not_leader: how requests ended, and
 * how many are in flight (`in_flight()`, read at scrape time). Returns what to tell each outcome to.
 */
export function registerProxyMetrics(registry: Registry, inFlight: () => number): (outcome: ProxyOutcome) => void {
  new Gauge({
    name: 'master_proxied_in_flight',
    help: 'Requests this standby is proxying to the leader now',
    registers: [registry],
    collect() {
      this.set(inFlight());
    },
  });
  const proxied = new Counter({ name: 'master_proxied_requests_total', help: 'Requests this standby proxied to the leader, by outcome: relayed, failed (timeout, leader unreachable), over_cap (refused past etcd_proxy_max_in_flight)', labelNames: ['outcome'], registers: [registry] });
  for (const outcome of ['relayed', 'failed', 'over_cap'] as const) proxied.inc({ outcome }, 0);
  return (outcome) => proxied.inc({ outcome });
}
