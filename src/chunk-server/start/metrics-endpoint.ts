import type { Logger } from 'pino';
import type { ChunkServerConfig } from '../../config/chunk-server.js';
import { listenHttp, type HttpSide } from '../../http/http-server.js';
import { metricsRoutes } from '../../http/metrics-routes.js';
import { readKeyGuard } from '../../http/guards.js';
import type { Registry } from 'prom-client';
import type { ChunkStore } from '../../storage/index.js';
import type { MasterClient } from '../cluster/master-client.js';

/** GET /metrics and /healthz on [chunk_server] metrics_port; null when it could not listen. */
export async function serveMetrics(
  config: ChunkServerConfig,
  o: { registry: Registry; address: string; store: ChunkStore; master: MasterClient | null; log: Logger },
): Promise<HttpSide | null> {
  const routes = metricsRoutes(o.registry, () => ({ address: o.address, chunks: o.store.chunkCount, master_up: o.master?.linkUp ?? false }));
  const security = config.security;
  const guard = security?.httpRead === 'key' ? readKeyGuard(security.clusterKeys, () => false) : undefined;
  const tls = config.tls?.mode === 'all' ? config.tls.credentials : undefined;
  const http = await listenHttp({ host: config.host, port: config.metricsPort, routes, log: o.log, guard, tls }).catch((err: unknown) => {
    // Metrics are for operators; a taken port must not keep the chunks offline.
    o.log.error({ err, metrics_port: config.metricsPort }, 'metrics endpoint could not listen; serving without it');
    return null;
  });
  if (http) o.log.info({ metrics_port: http.port, https: tls !== undefined }, 'metrics listening');
  return http;
}
