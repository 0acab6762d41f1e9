// Issue 25 item 6: gfs mv (the master's rename_file), du, checksum and completion through
// the real bin/gfs against a real master and chunk server.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { startCluster } from '../../support/cluster.js';
import { bytes } from '../../support/data.js';
import { runText } from '../../support/processes.js';

t.test('mv, du, checksum, completion', async (t) => {
  const c = await startCluster(t, { servers: 1, master: 'replication_factor = 1\n', chunk: '[master]\nreplication_factor = 1\n' });
  const gfs = (args: string[]) => c.gfs(['--chunk_size', '100000', ...args]);
  const json = async (args: string[]) => JSON.parse((await gfs(['--json', ...args])).stdout.toString());
  const data = bytes(250_000, 5);
  await writeFile(join(c.base, 'a.bin'), data);
  for (const remote of ['/m/a.bin', '/m/sub/b.bin', '/other.bin']) t.equal((await gfs(['put', join(c.base, 'a.bin'), remote])).code, 0, remote);

  const sum = await json(['checksum', '/m/a.bin']);
  t.match(sum, { status: 'ok', path: '/m/a.bin', size: 250_000, chunks: 3 });
  t.match(sum.checksum, /^[0-9a-f]{64}$/);
  t.equal((await json(['checksum', '/other.bin'])).checksum, sum.checksum, 'the same bytes put the same way: the same checksum');
  t.equal((await gfs(['checksum', '/m/a.bin'])).stdout.toString(), `${sum.checksum}  /m/a.bin\n`);

  t.equal((await gfs(['du', '/m'])).stdout.toString(), '250000\t1\t/m/sub\n500000\t2\t/m\n');
  t.equal((await gfs(['du', '-s', '-h', '/'])).stdout.toString(), '732.4 KiB\t3\t/\n');
  t.match(await json(['du', '/m/']), { status: 'ok', path: '/m', size: 500_000, files: 2, chunks: 6, folders: [{ path: '/m/sub', size: 250_000, files: 1, chunks: 3 }] });

  const mv = await json(['mv', '/m/a.bin', '/n/a.bin']);
  t.same(mv, { status: 'ok', moved: '/m/a.bin', to: '/n/a.bin' });
  t.equal((await gfs(['ls', '-R', '/'])).stdout.toString(), '/m/sub/b.bin\n/n/a.bin\n/other.bin\n');
  t.ok((await gfs(['cat', '/n/a.bin'])).stdout.equals(data), 'the moved file reads whole');
  t.equal((await json(['checksum', '/n/a.bin'])).checksum, sum.checksum, 'no data moved');
  t.same(await json(['mv', '/n/a.bin', '/m/sub/']), { status: 'ok', moved: '/n/a.bin', to: '/m/sub/a.bin' }, 'into a folder, keeping its name');
  const taken = await gfs(['mv', '/m/sub/a.bin', '/other.bin']);
  t.equal(taken.code, 1);
  t.equal(taken.stderr, 'gfs: /other.bin already exists\n');
  const missing = await gfs(['mv', '/nope', '/x']);
  t.equal(missing.code, 1);
  t.equal(missing.stderr, 'gfs: no such file: /nope\n');
  t.equal((await gfs(['mv', '/other.bin', 'rel.bin'])).code, 2, 'a target that breaks the path rule');

  const script = (await runText('bash', ['-c', `source <(${JSON.stringify(join(process.cwd(), 'bin', 'gfs'))} completion bash); COMP_WORDS=(gfs --json m); COMP_CWORD=2; _gfs; echo "\${COMPREPLY[@]}"; COMP_WORDS=(gfs ls -); COMP_CWORD=2; _gfs; echo "\${COMPREPLY[@]}"`])).stdout;
  t.equal(script, 'masters mv\n-l --long -h --human -R --recursive --help\n', 'bash completes commands and their options');
  const zsh = (await gfs(['completion', 'zsh'])).stdout.toString();
  t.match(zsh, /^#compdef gfs\n/);
  t.match(zsh, "'checksum:print a checksum");
  t.equal((await gfs(['completion', 'fish'])).code, 2);
});
