import { readFileSync } from 'node:fs';
import { Gauge, type Registry } from 'prom-client';

/** package.json's version, found from this module as the build leaves it (dist/http/) or in src/http/. */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return String(pkg.version);
}

/**
 * `<prefix>_build_info{version, node_version} 1`, the usual Prometheus idiom: a dashboard joins
 * on it to tell which release runs where, and a mixed-version cluster shows as two series.
 */
export function registerBuildInfo(registry: Registry, prefix: string): void {
  const g = new Gauge({ name: `${prefix}_build_info`, help: 'Always 1; the labels say which release and Node.js run', labelNames: ['version', 'node_version'], registers: [registry] });
  g.set({ version: packageVersion(), node_version: process.versions.node }, 1);
}
