// Issue 14, item 2: a client that sends retrieves and never reads its replies is
// disconnected after write_timeout_s, and the chunk files those replies held open are
// closed, so deleted chunks stop pinning disk space.
import { readdirSync, readlinkSync } from 'node:fs';
import t from 'tap';
import { writeToml } from '../../support/configs.js';
import { bytes, MIB } from '../../support/data.js';
import { call, Client } from '../../support/frames.js';
import { spawnServer } from '../../support/processes.js';
import { tempDir } from '../../support/temp.js';
import { waitFor } from '../../support/waits.js';

/** The files a process holds open that were deleted since (what pins disk space). */
function deletedOpenFiles(pid: number): string[] {
  const out: string[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (target.endsWith('(deleted)')) out.push(target);
    } catch {
      // closed while we looked
    }
  }
  return out;
}

t.test('retrieves that are never read: connections closed, files released', async (t) => {
  const dir = await tempDir(t);
  const config = await writeToml(dir, 'c.toml', '[chunk_server]\nwrite_timeout_s = 1\n');
  const server = await spawnServer(t, ['--config', config, '--data_dir', 'data', '--no_master', '--space', '128'], dir);
  const pid = server.proc.pid!;
  const data = bytes(24 * MIB, 7);
  t.match(await call(server.port, { command: 'store_chunk', chunk_id: 'pinned', data }), { status: 'ok' });

  const stalled: Client[] = [];
  for (let i = 0; i < 6; i++) {
    const c = await Client.connect(server.port, t);
    c.socket.pause();
    c.send({ command: 'retrieve_chunk', chunk_id: 'pinned' });
    stalled.push(c);
  }
  // The chunk goes; replies still being written must not keep its file alive.
  t.match(await call(server.port, { command: 'delete_chunk', chunk_id: 'pinned' }), { status: 'ok' });
  await waitFor('no deleted file held open by the server', async () => (deletedOpenFiles(pid).length === 0 ? true : undefined), 30_000, 100);
  t.pass('the server holds no deleted chunk file open');

  let received = 0;
  for (const c of stalled) {
    c.socket.on('data', (chunk: Buffer) => (received += chunk.length));
    c.socket.resume();
    await c.closed();
  }
  t.ok(received < stalled.length * data.length, 'the stalled replies were cut off, not completed');
  t.same(await call(server.port, { command: 'check_space', size: 1 }), { status: 'ok' }, 'the server serves others');
});
