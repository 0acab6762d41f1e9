// Memory under many large uploads at once: a 64 MiB store is streamed to disk as it arrives
// (stream_threshold_mb), holding at most UPLOAD_BACKLOG of unwritten data per connection, so
// the server's peak RSS does not grow with chunk size x connections.
import { readFile } from 'node:fs/promises';
import t from 'tap';
import { bytes, MIB } from '../../support/data.js';
import { Client } from '../../support/frames.js';
import { spawnServer } from '../../support/processes.js';
import { tempDir } from '../../support/temp.js';

const CLIENTS = 20;
const CHUNK = 64 * MIB;
// What an idle server takes, with room for tap's coverage hooks in the child.
const BASE_MARGIN = 128 * MIB;
// Per upload: the 4 MiB backlog limit of src/connection.ts, the socket read that crosses it,
// and the writev batch being flushed.
const PER_UPLOAD = 10 * MIB;

async function peakRss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

t.test(`${CLIENTS} clients each storing 64 MiB at once: peak RSS stays under ${BASE_MARGIN / MIB} MiB + ${PER_UPLOAD / MIB} MiB per upload`, async (t) => {
  const dir = await tempDir(t);
  const server = await spawnServer(t, ['--server_id', 'mem', '--data_dir', 'data', '--no_master', '--space', String((CLIENTS + 1) * 64)], dir);
  const data = bytes(CHUNK, 11);
  const clients = await Promise.all(Array.from({ length: CLIENTS }, () => Client.connect(server.port, t)));
  const replies = await Promise.all(clients.map((c, i) => c.call({ command: 'store_chunk', chunk_id: `m${i}`, file_path: '/m', data })));
  // The refusals themselves, if any: under heavy load a deadline, not the memory bound, is the usual cause.
  t.same(replies.filter((r, i) => !(r.status === 'ok' && r.chunk_id === `m${i}`)).map((r) => r.message), [], 'every store succeeded');
  const peak = await peakRss(server.proc.pid!);
  const bound = BASE_MARGIN + CLIENTS * PER_UPLOAD;
  t.ok(peak < bound, `peak RSS ${(peak / MIB).toFixed(0)} MiB < ${(bound / MIB).toFixed(0)} MiB (the chunks alone are ${(CLIENTS * CHUNK) / MIB} MiB)`);
});
