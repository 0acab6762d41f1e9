#!/usr/bin/env node
// `npm run config-docs`: rewrites chunk_server.toml and docs/operating.md's table of config keys from
// the rows in src/config/keys/ (built to dist/ first by the npm script).
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(import.meta.url), '..', '..');
const { renderToml, withKeysTable } = await import(join(ROOT, 'dist', 'config', 'docs.js'));
const readmePath = join(ROOT, 'docs', 'operating.md');
writeFileSync(join(ROOT, 'chunk_server.toml'), renderToml());
writeFileSync(readmePath, withKeysTable(readFileSync(readmePath, 'utf8')));
process.stdout.write('config-docs: wrote chunk_server.toml and docs/operating.md\n');
