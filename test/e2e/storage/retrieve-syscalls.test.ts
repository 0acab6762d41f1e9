// Retrieves by syscall trace (issue 22 item 4): a small chunk is answered from one read of
// its file, checked and sent from that one buffer; a large one, read ahead of the socket,
// is still read once, a read per block. Counted with `strace -f -yy`, as
// append-syscalls.test.ts counts appends.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { bytes, MIB } from '../../support/data.js';
import { Client, type Reply } from '../../support/frames.js';
import { spawnServer } from '../../support/processes.js';
import { NEEDS_STRACE, parseTrace, straceWrapper } from '../../support/syscall-trace.js';
import { tempDir } from '../../support/temp.js';

const TRACED = ['accept', 'accept4', 'openat', 'close', 'read', 'pread64', 'preadv', 'fstat', 'statx', 'newfstatat', 'write', 'writev'].join(',');
const SMALL_BYTES = 200_000;
const LARGE_BYTES = 8 * MIB;

t.test('a small retrieve is one read of its chunk file; a large one one read per block', NEEDS_STRACE, async (t) => {
  const dir = await tempDir(t);
  const trace = join(dir, 'trace.txt');
  const dataDir = join(dir, 'data');
  const server = await spawnServer(t, ['--server_id', 's1', '--data_dir', dataDir, '--no_master'], dir, { wrapper: straceWrapper(trace, TRACED) });
  const pid = Number(/"pid":(\d+)/.exec(server.stdout())![1]);

  const send = async (body: Reply): Promise<{ reply: Reply; port: number }> => {
    const c = await Client.connect(server.port);
    try {
      const reply = await c.call(body);
      return { reply, port: c.socket.localPort! };
    } finally {
      c.close();
    }
  };
  const small = bytes(SMALL_BYTES, 1);
  const large = bytes(LARGE_BYTES, 2);
  t.match((await send({ command: 'store_chunk', chunk_id: 'small', data: small })).reply, { status: 'ok' });
  t.match((await send({ command: 'store_chunk', chunk_id: 'large', data: large })).reply, { status: 'ok' });
  const gotSmall = await send({ command: 'retrieve_chunk', chunk_id: 'small' });
  t.ok(Buffer.from(gotSmall.reply.data as Uint8Array).equals(small), 'the small chunk comes back whole');
  const gotLarge = await send({ command: 'retrieve_chunk', chunk_id: 'large' });
  t.ok(Buffer.from(gotLarge.reply.data as Uint8Array).equals(large), 'the large chunk comes back whole');

  process.kill(pid, 'SIGTERM');
  t.equal(await server.exited, 0, 'the traced server stopped cleanly');
  const calls = parseTrace(await readFile(trace, 'utf8'));
  const window = (port: number): typeof calls => {
    const conn = `->127.0.0.1:${port}]`;
    const accepted = calls.find((c) => c.name.startsWith('accept') && c.ret.includes(conn));
    const writes = calls.filter((c) => /^(write|writev)$/.test(c.name) && c.args.includes(conn));
    t.ok(accepted && writes.length > 0, 'accept and reply are in the trace');
    if (!accepted || writes.length === 0) return [];
    const last = writes[writes.length - 1]!;
    return calls.filter((c) => c.start > accepted.end && c.end <= last.end);
  };
  const reads = (cs: typeof calls, path: string): typeof calls => cs.filter((c) => /^(read|pread64|preadv)$/.test(c.name) && c.args.includes(`<${path}`));

  const smallCalls = window(gotSmall.port);
  t.equal(reads(smallCalls, join(dataDir, 's1', 'small')).length, 1, 'the small chunk: one read of its file');

  // Read ahead, still each byte once: the blocks after the first window, one read each
  // (how far ahead they run is test/unit/storage/file-body.test.ts's to show; here the
  // thread pool's timing decides what a trace sees).
  const largeReads = reads(window(gotLarge.port), join(dataDir, 's1', 'large'));
  t.equal(largeReads.length, LARGE_BYTES / MIB, 'the large chunk: one read per 1 MiB block, none twice');
});
