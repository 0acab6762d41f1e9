// A large store streams to a staged temp file; a server process killed mid-frame leaves the temp
// behind, and the next start removes it and its reservation.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { largestFitting } from '../../../src/storage/index.js';
import { bytes, MIB } from '../../support/data.js';
import { call, Client, frame } from '../../support/frames.js';
import { spawnServer } from '../../support/processes.js';
import { tempDir } from '../../support/temp.js';
import { waitUntil } from '../../support/waits.js';

async function temps(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.startsWith('.store-'));
}

/** Data first, as the reference client sends it. */
function storeFrame(chunkId: string, data: Buffer, extra: Record<string, unknown> = {}): Buffer {
  return frame({ command: 'store_chunk', data, chunk_id: chunkId, file_path: '/f', ...extra });
}

t.test('a server killed mid-stream removes the staged temp when it starts again', async (t) => {
  const cwd = await tempDir(t);
  const args = ['--no_master', '--port', '0', '--data_dir', 'data', '--server_id', 's1'];
  const first = await spawnServer(t, args, cwd);
  const c = await Client.connect(first.port, t);
  c.write(storeFrame('killed', bytes(4 * MIB)).subarray(0, 3 * MIB));
  const chunkDir = join(cwd, 'data', 's1');
  await waitUntil('a staged temp', async () => (await temps(chunkDir)).length === 1);
  first.proc.kill('SIGKILL');
  await first.exited;
  t.equal((await temps(chunkDir)).length, 1, 'the temp outlives the crash');
  const second = await spawnServer(t, args, cwd);
  t.same(await temps(chunkDir), []);
  t.same(await call(second.port, { command: 'check_space', size: largestFitting(1024 * MIB) }), { status: 'ok' }, 'its reservation is not counted');
});
