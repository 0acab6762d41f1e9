import t from 'tap';
import { BufferPool } from '../../../src/wire/buffer-pool.js';
import { LengthFramer, type DecodedFrame } from '../../../src/wire/length-framer.js';
import { lengthPrefixed } from '../../support/frames.js';

function bodiesOf(frames: DecodedFrame[]): string[] {
  return frames.map((f) => (f.kind === 'frame' ? f.body.toString('hex') : f.kind === 'oversize' ? `oversize:${f.length}` : f.kind));
}

const pool = new BufferPool(16 << 20);
const small = Buffer.from('81a7636f6d6d616e64a3666f6f', 'hex');
const large = Buffer.alloc(200 * 1024, 7);
const stream = lengthPrefixed(small, Buffer.alloc(0), large, small);
const expected = [small, Buffer.alloc(0), large, small].map((b) => b.toString('hex'));

t.test('whole stream in one read', async (t) => {
  const out: DecodedFrame[] = [];
  new LengthFramer(1 << 20, pool).push(stream, out);
  t.same(bodiesOf(out), expected);
});

t.test('split at every point of the small frames', async (t) => {
  const head = lengthPrefixed(small, Buffer.alloc(0), small);
  for (let cut = 0; cut <= head.length; cut++) {
    const out: DecodedFrame[] = [];
    const d = new LengthFramer(1 << 20, pool);
    d.push(head.subarray(0, cut), out);
    d.push(head.subarray(cut), out);
    t.same(bodiesOf(out), [small, Buffer.alloc(0), small].map((b) => b.toString('hex')), `cut at ${cut}`);
  }
});

t.test('byte by byte', async (t) => {
  const out: DecodedFrame[] = [];
  const d = new LengthFramer(1 << 20, pool);
  for (let i = 0; i < stream.length; i++) d.push(stream.subarray(i, i + 1), out);
  t.same(bodiesOf(out), expected);
  t.equal(d.inFrame, false);
  t.equal(d.pendingBytes, 0);
});

t.test('large body split across reads lands in a pooled slab', async (t) => {
  const out: DecodedFrame[] = [];
  const d = new LengthFramer(1 << 20, pool);
  const bytes = lengthPrefixed(large);
  d.push(bytes.subarray(0, 1000), out);
  t.equal(d.inFrame, true);
  t.equal(d.pendingBytes, 1000);
  d.push(bytes.subarray(1000), out);
  t.equal(out.length, 1);
  const f = out[0]!;
  t.ok(f.kind === 'frame' && f.lease, 'pooled');
  if (f.kind === 'frame') {
    t.ok(f.body.equals(large));
    f.lease!.release();
    f.lease!.release();
  }
  t.ok(pool.retained >= large.length);
});

t.test('oversize length stops decoding and reports the length', async (t) => {
  const out: DecodedFrame[] = [];
  const d = new LengthFramer(1024, pool);
  d.push(Buffer.concat([lengthPrefixed(small), Buffer.from('ffffffff', 'hex'), Buffer.alloc(10)]), out);
  d.push(lengthPrefixed(small), out);
  t.same(bodiesOf(out), [small.toString('hex'), `oversize:${0xffffffff}`]);
});

t.test('oversize length split across reads', async (t) => {
  const out: DecodedFrame[] = [];
  const d = new LengthFramer(1024, pool);
  d.push(Buffer.from('0000', 'hex'), out);
  d.push(Buffer.from('0801', 'hex'), out);
  t.same(bodiesOf(out), ['oversize:2049']);
});

t.test('dispose mid-frame returns the slab', async (t) => {
  const p = new BufferPool(16 << 20);
  const d = new LengthFramer(1 << 20, p);
  d.push(lengthPrefixed(large).subarray(0, 5000), []);
  d.dispose();
  // The body grows with what arrived (issue 14): 5000 bytes hold the first 64 KiB slab only.
  t.equal(p.retained, 64 * 1024);
});

t.test('pool keeps no more than its cap', async (t) => {
  const p = new BufferPool(100 * 1024);
  const a = p.acquire(70 * 1024);
  const b = p.acquire(70 * 1024);
  t.equal(a.buf.length, 70 * 1024);
  a.release();
  b.release();
  t.equal(p.retained, 0, '128 KiB slabs exceed a 100 KiB cap');
  const c = p.acquire(10);
  c.release();
  t.equal(p.retained, 64 * 1024);
  const again = p.acquire(1000);
  t.equal(p.retained, 0, 'reused from the pool');
  again.release();
});
