// chunk_server.toml and docs/operating.md's table come from the rows; a row changed without
// `npm run config-docs` fails here.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { renderToml, withKeysTable } from '../../../src/config/docs.js';
import { ROOT } from '../../support/paths.js';

t.test('chunk_server.toml is the one the rows write', async (t) => {
  t.equal(await readFile(join(ROOT, 'chunk_server.toml'), 'utf8'), renderToml(), 'run `npm run config-docs`');
});

t.test("docs/operating.md's table of keys is the one the rows write", async (t) => {
  const readme = await readFile(join(ROOT, 'docs', 'operating.md'), 'utf8');
  t.equal(readme, withKeysTable(readme), 'run `npm run config-docs`');
});
