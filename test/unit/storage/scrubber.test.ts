// The background scrubber: finds damage by itself, at a bounded rate, on a schedule that
// survives restarts.
import { readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { ConfigError } from '../../../src/config/checks.js';
import { DEFAULTS, resolveConfig } from '../../../src/config/chunk-server.js';
import { charge } from '../../../src/storage/index.js';
import { bytes, flipByte, MIB } from '../../support/data.js';
import { call } from '../../support/frames.js';
import { startLoggedServer } from '../../support/in-process.js';
import { tempDir } from '../../support/temp.js';
import { waitUntil } from '../../support/waits.js';
import { chunkFile } from '../../support/chunk-files.js';

t.test('the scrubber finds a flipped byte within one interval, without any request', async (t) => {
  const dir = await tempDir(t);
  const intervalS = 0.5;
  const { server, logs } = await startLoggedServer(t, dir, { scrubIntervalS: intervalS }, 'info');
  for (const id of ['fine', 'rots']) await call(server.port, { command: 'store_chunk', chunk_id: id, data: bytes(300_000, id.length) });
  await flipByte(join(server.store.dir, 'rots'), 123_456);
  // No request touches the chunk: only the scrubber can find it.
  await waitUntil('the scrubber to report the chunk', () => server.store.corruptChunks().includes('rots'), 60_000);
  t.same(server.store.corruptChunks(), ['rots']);
  t.equal(server.store.space.used, charge(300_000), 'its space is back');
  t.match(logs.find((l) => l.msg === 'corrupt chunk moved to quarantine'), { level: 50, chunk_id: 'rots', found_by: 'scrub' });
  // Passes that ended before the damage saw none: the one that found it.
  const found = (l: Record<string, any>): boolean => l.msg === 'scrub pass finished' && l.corrupt > 0;
  await waitUntil('the pass to end', () => logs.some(found), 60_000);
  t.match(logs.find(found), { chunks: 1, corrupt: 1, unreadable: 0 });
  t.same(await call(server.port, { command: 'retrieve_chunk', chunk_id: 'rots' }), { status: 'error', message: 'corrupt_chunk' }, 'a retrieve is told why the chunk is gone');
  t.ok(Buffer.from((await call(server.port, { command: 'retrieve_chunk', chunk_id: 'fine' })).data).equals(bytes(300_000, 4)));
});

t.test('damage in a tail block that appends extended unread is found by the scrubber', async (t) => {
  // Issue 22 item 3: appends no longer read the tail block back before extending its sum;
  // the scrubber's schedule is what checks it now, as every other block.
  const dir = await tempDir(t);
  const { server, logs } = await startLoggedServer(t, dir, { scrubIntervalS: 0.5 }, 'info');
  const size = 100_000;
  await call(server.port, { command: 'store_chunk', chunk_id: 'log', data: bytes(size, 1) });
  await flipByte(join(server.store.dir, 'log'), size - 3);
  for (let i = 0; i < 5; i++) t.match(await call(server.port, { command: 'append_chunk', chunk_id: 'log', data: bytes(1000, i) }), { status: 'ok', new_offset: size + 1000 * (i + 1) }, `append ${i} is not refused`);
  await waitUntil('the scrubber to report the chunk', () => server.store.corruptChunks().includes('log'), 60_000);
  t.match(logs.find((l) => l.msg === 'corrupt chunk moved to quarantine'), { chunk_id: 'log', found_by: 'scrub', reason: /^block 1 / });
  t.equal(server.store.space.used, 0, 'its space is back');
});

t.test('scrub_rate_mb_s bounds the read rate; stop ends a pass at once', async (t) => {
  const dir = await tempDir(t);
  const first = await startLoggedServer(t, dir, { scrubIntervalS: 0.2, scrubRateMbS: 2 }, 'info');
  await call(first.server.port, { command: 'store_chunk', chunk_id: 'x', data: bytes(3 * MIB) });
  // A pass that began before the store finished may have seen no chunk: wait for one that saw it.
  const sawX = (l: Record<string, any>): boolean => l.msg === 'scrub pass finished' && l.chunks > 0;
  await waitUntil('a pass over the chunk', () => first.logs.some(sawX), 60_000);
  const pass = first.logs.find(sawX)!;
  t.match(pass, { chunks: 1, bytes: 3 * MIB, corrupt: 0 });
  // 3 MiB at 2 MiB/s: the last read is due 1.5 s after the pass started.
  t.ok(pass.duration_ms >= 1400, `a 3 MiB pass at 2 MiB/s took ${pass.duration_ms} ms`);
  await first.server.stop();

  // A 30 s pass, stopped once it is reading the chunk: stop does not wait for the pass to finish.
  const slow = await startLoggedServer(t, dir, { scrubIntervalS: 0.1, scrubRateMbS: 0.1 }, 'info');
  const chunkPath = chunkFile(slow.server.store.dir, 'x');
  const reading = async (): Promise<boolean> => {
    for (const fd of await readdir('/proc/self/fd')) if ((await readlink(`/proc/self/fd/${fd}`).catch(() => '')) === chunkPath) return true;
    return false;
  };
  for (let deadline = Date.now() + 60_000; !(await reading()); ) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the pass to read the chunk');
    await new Promise((r) => setTimeout(r, 10));
  }
  await slow.server.stop();
  t.notOk(slow.logs.some((l) => l.msg === 'scrub pass finished'), 'stopped mid-pass: the pass never finished');
});

t.test('the schedule survives restarts: an overdue pass runs right after start-up', async (t) => {
  const dir = await tempDir(t);
  const first = await startLoggedServer(t, dir, { scrubIntervalS: 3600 }, 'info');
  await call(first.server.port, { command: 'store_chunk', chunk_id: 'old', data: bytes(100_000) });
  const mark = join(first.server.store.dir, '.meta', '.last-scrub');
  const recorded = JSON.parse(await readFile(mark, 'utf8')).started_at;
  t.ok(Math.abs(recorded - Date.now()) < 60_000, 'the first start sets the clock: the first pass is one interval later');
  await first.server.stop();
  await flipByte(join(dir, 'test1', 'old'), 5);
  await writeFile(mark, JSON.stringify({ started_at: Date.now() - 2 * 3600_000 }));
  const { server, logs } = await startLoggedServer(t, dir, { scrubIntervalS: 3600 }, 'info');
  await waitUntil('the overdue pass', () => logs.some((l) => l.msg === 'scrub pass finished'), 60_000);
  t.same(server.store.corruptChunks(), ['old'], 'found by the overdue pass');
  const next = JSON.parse(await readFile(mark, 'utf8')).started_at;
  t.ok(next > Date.now() - 60_000, 'the pass recorded its start');
});

t.test('scrub_interval_s and scrub_rate_mb_s: defaults, file values, checks', async (t) => {
  t.match(DEFAULTS, { scrubIntervalS: 86_400, scrubRateMbS: 50 });
  t.match(resolveConfig({ chunk_server: { scrub_interval_s: 600, scrub_rate_mb_s: 5.5 } }, { server_id: 's' }), { scrubIntervalS: 600, scrubRateMbS: 5.5 });
  t.throws(() => resolveConfig({ chunk_server: { scrub_interval_s: 0 } }, { server_id: 's' }), new ConfigError('[chunk_server] scrub_interval_s must be a positive number of seconds, got 0'));
  t.throws(() => resolveConfig({ chunk_server: { scrub_rate_mb_s: 'fast' } }, { server_id: 's' }), ConfigError);
});
