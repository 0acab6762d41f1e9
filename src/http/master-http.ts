import type { Logger } from 'pino';
import type { MasterConfig } from '../master/config.js';
import { GfsClient } from '../client/index.js';
import { clientIO } from './cluster-io.js';
import type { ClusterView, NamespaceReader } from './cluster-view.js';
import { consoleApiRoutes, consoleState } from './console-api.js';
import { StateEvents } from './events.js';
import { listenHttp, type HttpSide } from './http-server.js';
import type { MasterMetrics } from './master-metrics.js';
import { metricsRoutes } from './metrics-routes.js';
import { staticRoutes } from './static-files.js';

const MIB = 1024 * 1024;

export interface MasterHttpOptions {
  readonly config: MasterConfig;
  readonly meta: NamespaceReader;
  readonly view: ClusterView;
  readonly metrics: MasterMetrics;
  /** The master's own TCP address: the console's client library talks to it as any client does. */
  readonly masterAddress: string;
  /** Runs a master command in this process. */
  readonly command: (body: Record<string, unknown>) => Promise<Record<string, unknown>>;
  readonly log: Logger;
}

/**
 * The master's HTTP side: metrics, health, the console's page and its API. A port that
 * cannot be bound is logged and the master serves on without it: the TCP side, which
 * clients and chunk servers need, never goes down for the console.
 */
export async function startMasterHttp(o: MasterHttpOptions): Promise<HttpSide | null> {
  const { config, view, log } = o;
  const events = new StateEvents(() => consoleState(view));
  const io = clientIO(new GfsClient({ master: o.masterAddress, chunkSize: Math.floor(config.consoleChunkMb * MIB), log }), o.command);
  const routes = {
    ...metricsRoutes(o.metrics.registry, () => ({ live_servers: view.totals().servers.live, files: o.meta.size })),
    ...staticRoutes(),
    ...consoleApiRoutes({ view, io, events }),
  };
  const host = config.httpHost ?? config.host;
  try {
    const http = await listenHttp({ host, port: config.httpPort, routes, log, onResponse: (route, status) => o.metrics.http(route, status) });
    log.info({ http_port: http.port, url: `http://${host}:${http.port}/` }, 'http listening');
    return {
      port: http.port,
      async close() {
        events.close();
        await http.close();
      },
    };
  } catch (err) {
    log.error({ err, http_port: config.httpPort }, 'http side could not listen; the master serves without it');
    return null;
  }
}
