import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { MasterConfig } from '../../config/master.js';
import { loadClientCredential } from '../../auth/client.js';
import { ClientKeys } from '../../auth/keys.js';
import { GfsClient } from '../../client/index.js';
import { clientIO, type ConsoleIO } from './cluster-io.js';
import type { ClusterView, NamespaceReader } from './cluster-view.js';
import { consoleApiRoutes, consoleState } from './console-api.js';
import { StateEvents } from './events.js';
import { listenHttp, type HttpSide } from '../../http/http-server.js';
import type { MasterMetrics } from './master-metrics.js';
import type { MasterRole } from '../etcd/role.js';
import { metricsRoutes } from '../../http/metrics-routes.js';
import { guards, knownHost, readKeyGuard, sameOriginProof } from '../../http/guards.js';
import { staticRoutes } from '../../http/static-files.js';

const MIB = 1024 * 1024;
// The page's files are served as they are written: no build step. The same relative path
// reaches src/master/console/web/ from src/master/console/ (tests) and from
// dist/master/console/ (the built master).
const WEB_DIR = fileURLToPath(new URL('../../../src/master/console/web/', import.meta.url));

/** The routes that show the cluster's state: every one but the page's own files. */
function isStateRoute(path: string): boolean {
  return path.startsWith('/api/') || path === '/metrics' || path === '/healthz';
}

export interface MasterHttpOptions {
  readonly config: MasterConfig;
  readonly meta: NamespaceReader;
  readonly view: ClusterView;
  readonly metrics: MasterMetrics;
  /** The master's own TCP address: the console's client library talks to it as any client does. */
  readonly masterAddress: string;
  /** This master's role over etcd (`single` without it), for the page's header. */
  readonly role: () => MasterRole;
  readonly log: Logger;
}

/**
 * The console's client library: signed with [master] console_key_file when set. A client key,
 * not the cluster key the master holds: a member's proof would let the console's requests
 * pass as the master's own (replica stores, chain hops) and its writes would not be told apart
 * from repair in the servers' logs; a client key gives it a client's rights only, under its own
 * name, revoked like any client's by removing its file from client_keys_dir.
 */
function consoleIO(o: MasterHttpOptions): ConsoleIO {
  const { config, log } = o;
  const keyFile = config.consoleKeyFile ?? undefined;
  const cred = keyFile === undefined ? null : loadClientCredential(keyFile);
  const security = config.security;
  if (cred && security?.clientKeysDir && !new ClientKeys(security.clientKeysDir).get(cred.id)?.some((k) => k.equals(cred.key))) {
    log.warn({ client_id: cred.id, client_keys_dir: security.clientKeysDir }, 'the console key is not in this master\'s client_keys_dir: its signed requests will be refused');
  }
  // Under TLS the console is a client with the CA only: the master's certificate would make it a member.
  const tls = config.tls && { caFile: config.tls.credentials.paths.caFile };
  const client = new GfsClient({ master: o.masterAddress, chunkSize: Math.floor(config.consoleChunkMb * MIB), keyFile, tls, log });
  return clientIO(client, { clientAuth: security?.clientAuth ?? 'off', signsAs: cred?.id ?? null });
}

/**
 * The master's HTTP side: metrics, health, the console's page and its API. A port that
 * cannot be bound is logged and the master serves on without it: the TCP side, which
 * clients and chunk servers need, never goes down for the console.
 */
export async function startMasterHttp(o: MasterHttpOptions): Promise<HttpSide | null> {
  const { config, view, log } = o;
  const events = new StateEvents(() => consoleState(view, o.masterAddress, o.role()), { maxStreams: config.consoleMaxStreams, log });
  let io: ConsoleIO;
  try {
    io = consoleIO(o);
  } catch (err) {
    // resolveMasterConfig checked the key file at start-up; one that went bad since costs the console, not the master.
    log.error({ err, console_key_file: config.consoleKeyFile }, 'console key unusable; the master serves without its HTTP side');
    return null;
  }
  const routes = {
    ...metricsRoutes(o.metrics.registry, () => ({ live_servers: view.totals().servers.live, files: o.meta.size })),
    ...staticRoutes(WEB_DIR),
    ...consoleApiRoutes({ master: o.masterAddress, role: o.role, view, io, events }),
  };
  const host = config.httpHost ?? config.host;
  const security = config.security;
  // Under "key" the page's own files stay open (they hold no state); what they fetch does not.
  const hosts = [hostname(), ...(host ? [host] : []), ...config.consoleHosts];
  const guard = guards(knownHost(hosts), sameOriginProof, security?.httpRead === 'key' ? readKeyGuard(security.clusterKeys, (p) => !isStateRoute(p)) : null);
  try {
    const tls = config.tls?.mode === 'all' ? config.tls.credentials : undefined;
    const http = await listenHttp({ host, port: config.httpPort, routes, log, guard, tls, onResponse: (route, status, seconds) => o.metrics.http(route, status, seconds) });
    log.info({ http_port: http.port, url: `${tls ? 'https' : 'http'}://${host}:${http.port}/` }, 'http listening');
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
