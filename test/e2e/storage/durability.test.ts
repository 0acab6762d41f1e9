// Durability by syscall trace. kill -9 keeps the page cache, so a crash test cannot see a
// missing fsync; this one runs the server under `strace -f` and checks, for every
// acknowledged mutation, that everything the server changed under its chunk directory (file
// data, and directory entries it created or renamed) was flushed before the reply left.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { bytes, MIB } from '../../support/data.js';
import { Client, type Reply } from '../../support/frames.js';
import { spawnServer } from '../../support/processes.js';
import { tempDir } from '../../support/temp.js';
import { durabilityFindings, NEEDS_STRACE, parseTrace, straceWrapper, TRACED_SYSCALLS } from '../../support/syscall-trace.js';

t.test('every acknowledged mutation is on disk, flushed, before its reply is sent', NEEDS_STRACE, async (t) => {
  const dir = await tempDir(t);
  const trace = join(dir, 'trace.txt');
  const dataDir = join(dir, 'data');
  const server = await spawnServer(t, ['--server_id', 's1', '--data_dir', dataDir, '--no_master'], dir, {
    wrapper: straceWrapper(trace, TRACED_SYSCALLS),
  });
  const pid = Number(/"pid":(\d+)/.exec(server.stdout())![1]);
  const chunkDir = join(dataDir, 's1');

  // Each request on its own connection, one at a time, so that the disk work between a
  // connection's accept and its reply is that request's.
  const done: Array<{ what: string; port: number; reply: Reply }> = [];
  const send = async (what: string, body: Reply): Promise<Reply> => {
    const c = await Client.connect(server.port);
    try {
      const reply = await c.call(body);
      done.push({ what, port: c.socket.localPort!, reply });
      return reply;
    } finally {
      c.close();
    }
  };
  const okStore = { status: 'ok' };
  t.match(await send('store of a new 4 KiB chunk', { command: 'store_chunk', chunk_id: 'small', file_path: '/f', data: bytes(4096, 1), replica_servers: true }), okStore);
  t.match(await send('store of a new 300 KB chunk', { command: 'store_chunk', chunk_id: 'mid', file_path: '/f', data: bytes(300_000, 2), replica_servers: true }), okStore);
  t.match(await send('streamed store of a new 3 MiB chunk', { command: 'store_chunk', chunk_id: 'big', file_path: '/f', data: bytes(3 * MIB, 3), replica_servers: true }), okStore);
  t.match(await send('streamed store over an existing large chunk', { command: 'store_chunk', chunk_id: 'big', file_path: '/f', data: bytes(2 * MIB, 8), replica_servers: true }), okStore);
  t.match(await send('store over an existing chunk', { command: 'store_chunk', chunk_id: 'mid', file_path: '/f', data: bytes(200_000, 4), replica_servers: true }), okStore);
  t.match(await send('append_chunk', { command: 'append_chunk', chunk_id: 'mid', data: bytes(5000, 5), offset: 200_000, file_path: '/f', replica_servers: true }), { status: 'ok', new_offset: 205_000 });
  t.match(await send('prepare_chunk', { command: 'prepare_chunk', chunk_id: 'tx', transaction_id: 't1', file_path: '/f', data: bytes(100_000, 6) }), { status: 'ok', message: 'prepared' });
  t.match(await send('commit_chunk', { command: 'commit_chunk', chunk_id: 'tx', transaction_id: 't1' }), { status: 'ok', message: 'committed' });
  t.match(await send('prepare_append', { command: 'prepare_append', chunk_id: 'tx', transaction_id: 't2', data: bytes(7000, 7), offset: 100_000 }), { status: 'ok', message: 'prepared' });
  t.match(await send('commit_append', { command: 'commit_append', chunk_id: 'tx', transaction_id: 't2' }), { status: 'ok', message: 'committed' });

  // The trace is complete once the server has exited (strace exits with it).
  process.kill(pid, 'SIGTERM');
  t.equal(await server.exited, 0, 'the traced server stopped cleanly');
  const calls = parseTrace(await readFile(trace, 'utf8'));
  t.ok(calls.length > 100, 'strace recorded the server');

  // Small appends are made durable by their record in the write-ahead log (.meta/wal-*.log),
  // flushed once; their chunk file is flushed later, by a checkpoint.
  // So are small stores (up to wal_store_max_kb): their new file, written before the record,
  // is renamed into place after it, both unflushed until the checkpoint.
  const viaLog = new Map([['append_chunk', 'mid'], ['commit_append', 'tx'], ['store of a new 4 KiB chunk', 'small']]);
  for (const { what, port } of done) {
    const f = durabilityFindings(calls, chunkDir, port, /\/\.meta\/wal-[01]\.log$/);
    const logged = viaLog.get(what);
    if (logged) t.same(f.loggedFiles, [join(chunkDir, logged)], `${what}: its chunk bytes are made durable by a flushed log record`);
    else t.same(f.loggedFiles, [], `${what}: nothing rests on the log`);
    t.ok(f.replied, `${what}: its accept and reply are in the trace`);
    t.ok(f.sawDurableWrite, `${what}: data was written and flushed under the chunk directory before the reply`);
    t.same(f.unsyncedFiles, [], `${what}: no file written under the chunk directory is unflushed at the reply`);
    t.same(f.unsyncedDirs, [], `${what}: no directory whose entries changed is unflushed at the reply`);
  }
});
