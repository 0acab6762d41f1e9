// A spilled value read back into memory (for a command that only takes bytes in memory) is
// held in memory like a frame body, so it asks the frame memory budget first (issue #21,
// review bug 3). Past the budget the request is refused with out_of_memory; the frame was
// read whole, so the connection goes on.
import t from 'tap';
import { bytes, MIB } from '../../support/data.js';
import { Client } from '../../support/frames.js';
import { startServer } from '../../support/in-process.js';

const KIB = 1024;

t.test('a read-back past the frame memory budget is refused, one within it is served', async (t) => {
  // Frames from 256 KiB spill; 1 MiB of memory for bodies in all.
  const server = await startServer(t, { frameMemoryMb: 1, streamThresholdMb: 0.25 });
  const c = await Client.connect(server.port, t);
  c.send({ command: 'append_chunk', chunk_id: 'big', data: bytes(2 * MIB) });
  t.same(await c.next(), { status: 'error', message: 'out_of_memory' }, 'append_chunk takes bytes in memory: refused');
  t.equal(server.store.sizeOf('big'), undefined, 'nothing appended');
  // Each of these fits alone; were the budget not given back, the third would not.
  for (let i = 0; i < 3; i++) {
    c.send({ command: 'append_chunk', chunk_id: 'fits', data: bytes(600 * KIB, i + 1) });
    t.match(await c.next(), { status: 'ok', new_offset: (i + 1) * 600 * KIB }, `read-back ${i + 1} within the budget`);
  }
  c.send({ command: 'store_chunk', chunk_id: 'streamed', data: bytes(2 * MIB) });
  t.match(await c.next(), { status: 'ok', chunk_id: 'streamed' }, 'store_chunk takes the spilled file: no read-back, no budget');
});
