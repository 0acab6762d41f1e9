// Issue 25 item 3: replication you can see. A put onto a cluster that cannot give every
// chunk the factor's copies says so on stderr and in --json; --min_copies makes it an error
// that keeps nothing.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { startCluster } from '../../support/cluster.js';
import { bytes } from '../../support/data.js';

t.test('copies per chunk, warnings and --min_copies', async (t) => {
  // Two servers under the default factor of 3: every chunk gets 2 copies.
  const c = await startCluster(t, { servers: 2 });
  const local = join(c.base, 'in.bin');
  await writeFile(local, bytes(250_000, 3));
  const gfs = (args: string[]) => c.gfs(['--chunk_size', '100000', ...args]);

  const put = await gfs(['--json', 'put', local, '/two.bin']);
  t.equal(put.code, 0, put.stderr);
  const out = JSON.parse(put.stdout.toString());
  t.same(out.copies, [2, 2, 2], 'copies per chunk');
  t.equal(out.replication_factor, 3);
  t.match(out.warnings, [/^3 of 3 chunks stored below the replication factor \(chunk 0 has 2 of 3 copies, /]);
  t.match(put.stderr, /^gfs: warning: 3 of 3 chunks stored below the replication factor/, 'the warning is on stderr too');

  const strict = await gfs(['put', '--min_copies', '3', local, '/strict.bin']);
  t.equal(strict.code, 1);
  t.equal(strict.stderr, 'gfs: chunk 0 was stored with 2 of the 3 copies asked for (--min_copies); the upload was removed\n');
  const ls = JSON.parse((await gfs(['--json', 'ls'])).stdout.toString());
  t.same(ls.files.map((f: { path: string }) => f.path), ['/two.bin'], 'nothing kept under /strict.bin');

  const enough = await gfs(['--json', 'put', '--min_copies', '2', local, '/ok.bin']);
  t.equal(enough.code, 0, enough.stderr);
  t.same(JSON.parse(enough.stdout.toString()).copies, [2, 2, 2]);

  // Appends say the same: the chunk the bytes went to, its copies, the warning.
  const more = join(c.base, 'more.bin');
  await writeFile(more, bytes(1000, 4));
  const app = await gfs(['--json', 'append', '/two.bin', more]);
  t.equal(app.code, 0, app.stderr);
  t.match(JSON.parse(app.stdout.toString()), { status: 'ok', appended: 1000, offset: 250_000, copies: 2, chunks: [{ index: 2, copies: 2 }], replication_factor: 3, warnings: [/^1 of 1 chunks took the append below the replication factor \(chunk 2 has 2 of 3 copies\)/] });
  t.match(app.stderr, /^gfs: warning: 1 of 1 chunks took the append below/);
  const strictAppend = await gfs(['append', '--min_copies', '3', '/two.bin', more]);
  t.equal(strictAppend.code, 1);
  t.equal(strictAppend.stderr, 'gfs: chunk 2 took the append with 2 of the 3 copies asked for (--min_copies); 1000 bytes were appended from offset 251000 and stay (an append cannot be taken back), the rest was not sent\n');
  t.equal(JSON.parse((await gfs(['--json', 'stat', '/two.bin'])).stdout.toString()).size, 252_000, 'an append cannot be taken back: the error says so');
  const newAppend = await gfs(['--json', 'append', '--min_copies', '3', '/new.bin', more]);
  t.equal(newAppend.code, 1, 'an append that creates the file is a put: nothing kept');
  t.match(JSON.parse(newAppend.stdout.toString()), { status: 'error', code: 'under_replicated' });
  t.equal((await gfs(['stat', '/new.bin'])).code, 1);
  t.equal((await gfs(['append', '--min_copies', '2', '/two.bin', more])).code, 0);

  const bad = await gfs(['put', '--min_copies', 'x', local, '/bad.bin']);
  t.equal(bad.code, 2);
  t.equal(bad.stderr, 'gfs: --min_copies takes a whole number from 1, got x\n');
});
