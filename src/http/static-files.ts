import type { ServerResponse } from 'node:http';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { sendText, type Routes } from './http-server.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** GET routes for every file of `dir` of a type listed above, read once; `/` is index.html. */
export function staticRoutes(dir: string): Routes {
  const routes: Routes = {};
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (!type) continue;
    const body = readFileSync(join(dir, name));
    const handler = { GET: ({ res }: { res: ServerResponse }) => sendText(res, 200, type, body) };
    routes[`/${name}`] = handler;
    if (name === 'index.html') routes['/'] = handler;
  }
  return routes;
}
