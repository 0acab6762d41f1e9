import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sendText, type Routes } from './http-server.js';

// The page's files are served as they are written: no build step. The same relative path
// reaches src/master/console/web/ from src/http/ (tests) and from dist/http/ (the built master).
export const WEB_DIR = fileURLToPath(new URL('../../src/master/console/web/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** GET routes for every file of src/master/console/web/, read once; `/` is index.html. */
export function staticRoutes(dir = WEB_DIR): Routes {
  const routes: Routes = {};
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (!type) continue;
    const body = readFileSync(join(dir, name));
    const handler = { GET: ({ res }: { res: import('node:http').ServerResponse }) => sendText(res, 200, type, body) };
    routes[`/${name}`] = handler;
    if (name === 'index.html') routes['/'] = handler;
  }
  return routes;
}
