// Small stores by syscall trace (issue 22 item 1): concurrent stores up to wal_store_max_kb
// share the write-ahead log's flushes, one fdatasync per batch written, and flush nothing
// else before their replies: no chunk file, no directory, no metadata store page (those
// wait for the checkpoint). Counted with `strace -f -yy`, as append-syscalls.test.ts does.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { bytes } from '../../support/data.js';
import { Client } from '../../support/frames.js';
import { spawnServer } from '../../support/processes.js';
import { NEEDS_STRACE, parseTrace, straceWrapper } from '../../support/syscall-trace.js';
import { tempDir } from '../../support/temp.js';

const TRACED = ['accept', 'accept4', 'openat', 'close', 'write', 'writev', 'pwrite64', 'pwritev', 'rename', 'renameat', 'renameat2', 'fsync', 'fdatasync'].join(',');
const STORES = 8;
const LOG = /\/\.meta\/wal-[01]\.log>/;

t.test(`${STORES} concurrent 4 KiB stores: one log flush per batch, no other flush`, NEEDS_STRACE, async (t) => {
  const dir = await tempDir(t);
  const trace = join(dir, 'trace.txt');
  const dataDir = join(dir, 'data');
  const server = await spawnServer(t, ['--server_id', 's1', '--data_dir', dataDir, '--no_master'], dir, { wrapper: straceWrapper(trace, TRACED) });
  const pid = Number(/"pid":(\d+)/.exec(server.stdout())![1]);

  // Connected first, then all sent at once: the work between the first accept and the last
  // reply is these stores'.
  const clients = await Promise.all(Array.from({ length: STORES }, () => Client.connect(server.port)));
  const replies = await Promise.all(clients.map((c, i) => c.call({ command: 'store_chunk', chunk_id: `s${i}`, data: bytes(4096, 1 + i) })));
  // Read before close, which forgets the socket's address.
  const ports = new Set(clients.map((c) => `->127.0.0.1:${c.socket.localPort!}]`));
  for (const c of clients) c.close();
  for (const r of replies) t.match(r, { status: 'ok', version: 1 });
  const check = await Client.connect(server.port);
  for (let i = 0; i < STORES; i++) {
    const r = await check.call({ command: 'retrieve_chunk', chunk_id: `s${i}` });
    t.ok(Buffer.from(r.data as Uint8Array).equals(bytes(4096, 1 + i)), `s${i} reads back at once`);
  }
  check.close();

  process.kill(pid, 'SIGTERM');
  t.equal(await server.exited, 0, 'the traced server stopped cleanly');
  const calls = parseTrace(await readFile(trace, 'utf8'));
  const mine = (c: { args: string; ret: string }): boolean => [...ports].some((p) => c.args.includes(p) || c.ret.includes(p));
  const accepts = calls.filter((c) => c.name.startsWith('accept') && mine(c));
  const sends = calls.filter((c) => /^(write|writev)$/.test(c.name) && mine(c));
  t.equal(accepts.length, STORES, 'every connection accepted in the trace');
  t.equal(sends.length, STORES, 'every reply in the trace');
  const from = Math.min(...accepts.map((c) => c.end));
  const to = Math.max(...sends.map((c) => c.start));
  const during = calls.filter((c) => c.start > from && c.end < to && !c.ret.startsWith('-1'));
  const flushes = during.filter((c) => c.name === 'fsync' || c.name === 'fdatasync');
  const logFlushes = flushes.filter((c) => LOG.test(c.args)).length;
  const logWrites = during.filter((c) => /^(write|writev|pwrite64|pwritev)$/.test(c.name) && LOG.test(c.args)).length;
  t.same(flushes.filter((c) => !LOG.test(c.args)).map((c) => c.args), [], 'nothing but the log is flushed before the replies');
  t.ok(logFlushes >= 1, `the log was flushed (${logFlushes} times)`);
  t.equal(logFlushes, logWrites, 'one flush per batch written to the log');
  t.ok(logFlushes < STORES, `${STORES} concurrent stores shared ${logFlushes} flushes`);
});
