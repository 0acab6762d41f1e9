// Appends by syscall trace (issue 22 item 3): a small append to a chunk already written is
// one write into the chunk file and the write-ahead log's flush; the chunk file is neither
// opened, read back nor closed per append (its handle stays in the cache, its tail block's
// sum is extended from the recorded one). Counted with `strace -f -yy`, as the durability
// test reads its trace.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { bytes } from '../../support/data.js';
import { oneConnectionEach } from '../../support/frames.js';
import { spawnServer } from '../../support/processes.js';
import { NEEDS_STRACE, parseTrace, straceWrapper } from '../../support/syscall-trace.js';
import { tempDir } from '../../support/temp.js';

const TRACED = ['accept', 'accept4', 'openat', 'close', 'read', 'pread64', 'preadv', 'write', 'writev', 'pwrite64', 'pwritev', 'fsync', 'fdatasync'].join(',');
const APPENDS = 8;
// Not block-aligned, so every append starts inside a tail block that holds old bytes.
const FIRST_BYTES = 100_000;
const RECORD_BYTES = 4096;

t.test('a 4 KiB append is one write to its chunk file and one log flush', NEEDS_STRACE, async (t) => {
  const dir = await tempDir(t);
  const trace = join(dir, 'trace.txt');
  const dataDir = join(dir, 'data');
  const server = await spawnServer(t, ['--server_id', 's1', '--data_dir', dataDir, '--no_master'], dir, {
    wrapper: straceWrapper(trace, TRACED),
  });
  const pid = Number(/"pid":(\d+)/.exec(server.stdout())![1]);
  const chunkFile = join(dataDir, 's1', 'hot');

  const { send, ports } = oneConnectionEach(server.port);
  t.match(await send({ command: 'store_chunk', chunk_id: 'hot', data: bytes(FIRST_BYTES, 1) }), { status: 'ok' });
  // The first append opens the file; the cache keeps it open for the next ones.
  t.match(await send({ command: 'append_chunk', chunk_id: 'hot', data: bytes(RECORD_BYTES, 2) }), { status: 'ok' });
  ports.length = 0;
  let end = FIRST_BYTES + RECORD_BYTES;
  for (let i = 0; i < APPENDS; i++) {
    end += RECORD_BYTES;
    t.match(await send({ command: 'append_chunk', chunk_id: 'hot', data: bytes(RECORD_BYTES, 3 + i) }), { status: 'ok', new_offset: end });
  }
  const all = await send({ command: 'retrieve_chunk', chunk_id: 'hot' });
  t.equal(Buffer.from(all.data as Uint8Array).length, end, 'every appended byte is there, and its sums match (the retrieve checks them)');

  process.kill(pid, 'SIGTERM');
  t.equal(await server.exited, 0, 'the traced server stopped cleanly');
  const calls = parseTrace(await readFile(trace, 'utf8'));

  for (const [i, port] of ports.slice(0, APPENDS).entries()) {
    const conn = `->127.0.0.1:${port}]`;
    const accepted = calls.find((c) => c.name.startsWith('accept') && c.ret.includes(conn));
    const reply = calls.find((c) => /^(write|writev)$/.test(c.name) && c.args.includes(conn));
    t.ok(accepted && reply, `append ${i}: accept and reply are in the trace`);
    if (!accepted || !reply) continue;
    const during = calls.filter((c) => c.start > accepted.end && c.end < reply.start);
    const onChunk = (names: RegExp): number => during.filter((c) => names.test(c.name) && (c.args.includes(`<${chunkFile}>`) || c.ret.includes(`<${chunkFile}>`))).length;
    const logFlushes = during.filter((c) => c.name === 'fdatasync' && /\/\.meta\/wal-[01]\.log>/.test(c.args)).length;
    t.same(
      { opens: onChunk(/^openat$/), reads: onChunk(/^(read|pread64|preadv)$/), writes: onChunk(/^(write|writev|pwrite64|pwritev)$/), closes: onChunk(/^close$/), logFlushes },
      { opens: 0, reads: 0, writes: 1, closes: 0, logFlushes: 1 },
      `append ${i}: one write of the chunk file and one log flush`,
    );
  }
});
