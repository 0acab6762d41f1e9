import t from 'tap';
import { baseName, folderOf, isUnder, joinPath, pathProblem } from '../../src/paths.js';

t.test('the path rule', async (t) => {
  for (const ok of ['/a', '/media/a.txt', '/a b/c.d', '/..x/y.', '/é/ü']) t.equal(pathProblem(ok), null, ok);
  const cases: Array<[string, string]> = [
    ['', 'empty'],
    ['a', 'not absolute'],
    ['rel/a.txt', 'not absolute'],
    ['/', 'the root is a folder'],
    ['/media/', 'trailing slash'],
    ['//a', 'empty segment'],
    ['/a//b', 'empty segment'],
    ['/a/./b', '. or .. segment'],
    ['/a/../b', '. or .. segment'],
    ['/..', '. or .. segment'],
    ['/a\0b', 'NUL character'],
    ['/' + 'x'.repeat(1024), 'longer than 1024 bytes'],
    ['/' + 'é'.repeat(512), 'longer than 1024 bytes'],
  ];
  for (const [path, why] of cases) t.equal(pathProblem(path), why, JSON.stringify(path.slice(0, 20)));
});

t.test('folders as users name them', async (t) => {
  t.equal(folderOf('/'), '/');
  t.equal(folderOf('/media'), '/media');
  t.equal(folderOf('/media/'), '/media');
  t.equal(folderOf('media'), null);
  t.equal(folderOf('/media//'), null);
  t.equal(folderOf(''), null);
  t.ok(isUnder('/media/a', '/media'));
  t.ok(isUnder('/media/x/a', '/media'));
  t.notOk(isUnder('/mediax/a', '/media'), 'not a string prefix');
  t.notOk(isUnder('/media', '/media'));
  t.ok(isUnder('/a', '/'));
  t.notOk(isUnder('rel/a', '/'));
  t.equal(baseName('/a/b.txt'), 'b.txt');
  t.equal(joinPath('/', 'a/b'), '/a/b');
  t.equal(joinPath('/x', 'a'), '/x/a');
});
