// Large stores by syscall trace (issue 22 item 2): a store above 256 KiB is written once,
// where its version lives, with one flush of its data, never renamed; its directory entry is
// made durable by the directory fsync the stores of the moment share (the durability test
// checks that it is there); one metadata commit publishes it. Counted with `strace -f -yy`,
// as append-syscalls.test.ts counts appends.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { bytes, MIB } from '../../support/data.js';
import { oneConnectionEach } from '../../support/frames.js';
import { spawnServer } from '../../support/processes.js';
import { NEEDS_STRACE, parseTrace, straceWrapper } from '../../support/syscall-trace.js';
import { tempDir } from '../../support/temp.js';

const TRACED = ['accept', 'accept4', 'openat', 'write', 'writev', 'pwrite64', 'pwritev', 'rename', 'renameat', 'renameat2', 'unlink', 'unlinkat', 'fsync', 'fdatasync', 'msync'].join(',');

t.test('a large store is one data flush and no rename; replacing it removes the old file after the publish', NEEDS_STRACE, async (t) => {
  const dir = await tempDir(t);
  const trace = join(dir, 'trace.txt');
  const dataDir = join(dir, 'data');
  const chunkDir = join(dataDir, 's1');
  const server = await spawnServer(t, ['--server_id', 's1', '--data_dir', dataDir, '--no_master'], dir, { wrapper: straceWrapper(trace, TRACED) });
  const pid = Number(/"pid":(\d+)/.exec(server.stdout())![1]);
  const { send, ports } = oneConnectionEach(server.port);
  t.match(await send({ command: 'store_chunk', chunk_id: 'big', data: bytes(4 * MIB, 1) }), { status: 'ok', version: 1 });
  t.match(await send({ command: 'store_chunk', chunk_id: 'big', data: bytes(3 * MIB, 2) }), { status: 'ok', version: 2 });

  process.kill(pid, 'SIGTERM');
  t.equal(await server.exited, 0, 'the traced server stopped cleanly');
  const calls = parseTrace(await readFile(trace, 'utf8'));
  const dataFile = new RegExp(`<${chunkDir}/big~[0-9a-f]{16}>`);
  const tagged: string[] = [];
  for (const [i, port] of ports.entries()) {
    const conn = `->127.0.0.1:${port}]`;
    const accepted = calls.find((c) => c.name.startsWith('accept') && c.ret.includes(conn));
    const reply = calls.find((c) => /^(write|writev)$/.test(c.name) && c.args.includes(conn));
    t.ok(accepted && reply, `store ${i}: accept and reply are in the trace`);
    if (!accepted || !reply) continue;
    const during = calls.filter((c) => c.start > accepted.end && c.end < reply.start);
    const flushes = during.filter((c) => /^(fsync|fdatasync)$/.test(c.name));
    const created = during.find((c) => c.name === 'openat' && /O_CREAT/.test(c.args) && dataFile.test(c.ret));
    t.ok(created, `store ${i}: its data file is created under a tagged name`);
    if (created) tagged.push(/<(.+?)>/.exec(created.ret)![1]!);
    t.equal(flushes.filter((c) => dataFile.test(c.args)).length, 1, `store ${i}: one flush of its data`);
    t.ok(flushes.filter((c) => c.args.includes(`<${chunkDir}>`)).length <= 1, `store ${i}: at most one directory fsync`);
    t.equal(during.filter((c) => c.name.startsWith('rename')).length, 0, `store ${i}: nothing renamed`);
    t.ok(flushes.some((c) => c.args.includes('/.meta/chunks.mdb')), `store ${i}: the metadata store's commit publishes it`);
    if (i === 1) {
      const removed = during.filter((c) => c.name.startsWith('unlink') && c.args.includes(tagged[0]!));
      t.equal(removed.length, 1, 'store 1: the old version is removed');
      const published = flushes.filter((c) => c.args.includes('/.meta/chunks.mdb')).at(-1);
      t.ok(published && removed[0] && removed[0].start > published.end, 'store 1: the old version is removed after the publish');
    }
  }
});
