import type { Registry } from 'prom-client';
import { sendJson, sendText, type Routes } from './http-server.js';

/** GET /metrics (Prometheus text format) and GET /healthz (200 with a JSON summary while the process serves). */
export function metricsRoutes(registry: Registry, health: () => Record<string, unknown>): Routes {
  return {
    '/metrics': {
      GET: async ({ res }) => sendText(res, 200, registry.contentType, await registry.metrics()),
    },
    '/healthz': {
      GET: ({ res }) => sendJson(res, 200, { status: 'ok', ...health() }),
    },
  };
}
