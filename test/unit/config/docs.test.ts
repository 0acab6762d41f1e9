// chunk_server.toml and README's table come from the rows; a row changed without
// `npm run config-docs` fails here.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { renderToml, withReadmeTable } from '../../../src/config/docs.js';
import { ROOT } from '../../support/helpers.js';

t.test('chunk_server.toml is the one the rows write', async (t) => {
  t.equal(await readFile(join(ROOT, 'chunk_server.toml'), 'utf8'), renderToml(), 'run `npm run config-docs`');
});

t.test("README's table of keys is the one the rows write", async (t) => {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  t.equal(readme, withReadmeTable(readme), 'run `npm run config-docs`');
});
