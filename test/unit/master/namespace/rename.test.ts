// rename_file's half of the namespace on a real lmdb store: one transaction moves the record
// and its index entries; a taken or missing name changes nothing; a reopen sees the new name.
import { join } from 'node:path';
import t from 'tap';
import { MSG } from '../../../../src/errors.js';
import { Namespace } from '../../../../src/master/namespace/namespace.js';
import { tempDir } from '../../../support/temp.js';

t.test('rename: the record and the chunk index move together; refused onto a taken name', async (t) => {
  const dir = await tempDir(t);
  let { ns } = await Namespace.open(join(dir, 'ns'), null);
  t.teardown(() => ns.close());
  await ns.addFile('/a', 0, ['x', 'y']);
  await ns.recordChunk('/a', 'x', ['h:1'], 5, 0, 1);
  await ns.addFile('/b', 0, ['y']);

  await ns.rename('/a', '/c/a');
  t.equal(ns.get('/a'), null);
  t.match(ns.get('/c/a'), { file_path: '/c/a', chunk_ids: ['x', 'y'], chunk_offsets: { x: 5 }, chunk_locations: { x: ['h:1'] } });
  t.same(ns.filesOf('x'), ['/c/a']);
  t.same(ns.filesOf('y').sort(), ['/b', '/c/a']);
  t.equal(ns.size, 2, 'a rename neither adds nor removes a file');

  await t.rejects(ns.rename('/c/a', '/b'), { message: MSG.fileExists }, 'the target is taken');
  await t.rejects(ns.rename('/nope', '/z'), { message: MSG.fileNotFound });
  await t.rejects(ns.rename('/b', '/b'), { message: MSG.fileExists }, 'onto itself');
  const both = [ns.rename('/b', '/t'), ns.rename('/c/a', '/t')];
  await t.rejects(both[1]!, { message: MSG.fileExists }, 'two renames onto one name in one turn: the second is refused');
  await both[0];
  t.same(ns.list().sort(), ['/c/a', '/t']);

  await ns.close();
  ({ ns } = await Namespace.open(join(dir, 'ns'), null));
  t.same(ns.list().sort(), ['/c/a', '/t'], 'after a reopen');
  t.same(ns.filesOf('y').sort(), ['/c/a', '/t']);
});
