import t from 'tap';
import { bytes } from '../../support/data.js';
import { Client } from '../../support/frames.js';
import { tempDir } from '../../support/temp.js';
import { crashCases, retrieve, start, stop } from '../../support/crash-points.js';

// Whole-chunk stores and in-place appends (test/support/crash-points.ts).
crashCases(t, (c) => c.point.startsWith('store.') || c.point.startsWith('append.') || c.point.startsWith('wal.'));

t.test('random kill -9 during a stream of appends: every acknowledged record present, none torn', async (t) => {
  const dir = await tempDir(t);
  const rounds = 3;
  let expected: Buffer = Buffer.alloc(0);
  for (let round = 0; round < rounds; round++) {
    const server = await start(t, dir);
    const c = await Client.connect(server.port, t);
    const killAfter = 5 + Math.floor(Math.random() * 40);
    const records: Buffer[] = [];
    let acked = 0;
    let sent = 0;
    for (;;) {
      const rec = bytes(1000 + ((round * 100 + sent) % 7) * 613, 1000 + round * 100 + sent);
      records.push(rec);
      c.send({ command: 'append_chunk', chunk_id: 'log', data: rec });
      sent++;
      if (sent === killAfter) {
        // Killed with this append in flight, at whatever step it has reached.
        server.proc.kill('SIGKILL');
        break;
      }
      const r = await c.next();
      t.equal(r?.status, 'ok');
      acked++;
    }
    await server.exited;
    c.close();
    const again = await start(t, dir);
    const got = (await retrieve(again.port, 'log')).data ?? Buffer.alloc(0);
    const withAcked = Buffer.concat([expected, ...records.slice(0, acked)]);
    const withAll = Buffer.concat([withAcked, ...records.slice(acked)]);
    t.ok(got.equals(withAcked) || got.equals(withAll), `round ${round}: ${acked} acknowledged records present, the one in flight whole or absent`);
    expected = got;
    await stop(again);
  }
});
