// What a spill provider learns of a frame before one of its large values: the top-level
// string fields sent before it (auth_id first lets a server know the signer in time).
import { Packr } from 'msgpackr';
import t from 'tap';
import { BufferPool } from '../../../src/wire/buffer-pool.js';
import { LengthFramer, type DecodedFrame } from '../../../src/wire/length-framer.js';
import type { FrameHead, SpilledBin, SpillTarget } from '../../../src/wire/payload.js';
import { lengthPrefixed } from '../../support/frames.js';

const packr = new Packr({ useRecords: false });
const pool = new BufferPool(8 << 20);

const target: SpillTarget = {
  backlogBytes: 0,
  write: () => undefined,
  drained: () => Promise.resolve(),
  finish: async () => ({}) as SpilledBin,
  discard: async () => undefined,
};

/** The auth_id and command each large value's provider saw, fed in reads of `step` bytes. */
function headsSeen(obj: Record<string, unknown>, step: number): Array<[string | undefined, string | undefined]> {
  const seen: Array<[string | undefined, string | undefined]> = [];
  const spill = { open: (_size: number, head?: FrameHead) => (seen.push([head?.text('auth_id'), head?.text('command')]), target) };
  const framer = new LengthFramer(4 << 20, pool, { spill, minFrameBytes: 1024 });
  const frame = lengthPrefixed(packr.pack(obj));
  const out: DecodedFrame[] = [];
  for (let at = 0; at < frame.length; at += step) framer.push(frame.subarray(at, at + step), out);
  t.equal(out.length, 1);
  return seen;
}

t.test('fields before a large value are known at its header, whatever the read splits', async (t) => {
  const data = Buffer.alloc(200_000, 7);
  for (const step of [1, 7, 100_000, 1 << 22]) {
    t.same(headsSeen({ auth_id: 'alice', command: 'store_chunk', data, other: Buffer.alloc(100_000) }, step), [['alice', 'store_chunk'], ['alice', 'store_chunk']], `reads of ${step}`);
    t.same(headsSeen({ command: 'store_chunk', data, auth_id: 'alice' }, step), [[undefined, 'store_chunk']], `auth_id after the value: not yet known (reads of ${step})`);
    t.same(headsSeen({ auth_id: 5, command: ['x'], data }, step), [[undefined, undefined]], `non-string values are not text (reads of ${step})`);
  }
});
