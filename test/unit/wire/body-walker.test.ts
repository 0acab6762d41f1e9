// The body walker, through the length framer: large frames are parsed as they arrive and their big bin
// values handed to spill targets, whatever the field order and however the bytes are split.
import { Packr } from 'msgpackr';
import t from 'tap';
import { BufferPool } from '../../../src/wire/buffer-pool.js';
import { decodeBody } from '../../../src/wire/codec.js';
import { SKELETON_MAX_BYTES } from '../../../src/wire/body-walker.js';
import { LengthFramer, type DecodedFrame, type StreamOptions } from '../../../src/wire/length-framer.js';
import type { SpilledBin, SpillProvider, SpillTarget } from '../../../src/wire/payload.js';
import { bytes } from '../../support/data.js';

const packr = new Packr({ useRecords: false });
const pool = new BufferPool(64 << 20);

/** Keeps spilled bytes in memory, so the walk can be checked byte for byte. */
class MemoryTarget implements SpillTarget {
  readonly pieces: Buffer[] = [];
  discarded = false;
  readonly backlogBytes = 0;
  constructor(readonly size: number) {}
  write(piece: Buffer): void {
    this.pieces.push(piece);
  }
  drained(): Promise<void> {
    return Promise.resolve();
  }
  async finish(): Promise<SpilledBin> {
    return { kind: 'spilled', size: this.size, fileBody: () => ({ kind: 'file', size: this.size, pipe: async () => undefined, close: async () => undefined }) };
  }
  async discard(): Promise<void> {
    this.discarded = true;
  }
  get bytes(): Buffer {
    return Buffer.concat(this.pieces);
  }
}

class MemoryProvider implements SpillProvider {
  readonly opened: MemoryTarget[] = [];
  refuse: Error | null = null;
  open(size: number): SpillTarget {
    if (this.refuse) throw this.refuse;
    const target = new MemoryTarget(size);
    this.opened.push(target);
    return target;
  }
}

function streaming(provider: SpillProvider, minFrameBytes = 1024): StreamOptions {
  return { spill: provider, minFrameBytes };
}

/** A frame built from raw body parts, so tests can see where each field starts. */
function frameOf(parts: Buffer[]): { frame: Buffer; cuts: number[] } {
  const body = Buffer.concat(parts);
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32BE(body.length);
  const cuts = [0, 1, 2, 3, 4];
  let at = 4;
  for (const p of parts) cuts.push((at += p.length));
  return { frame: Buffer.concat([prefix, body]), cuts };
}

const bin32 = (n: number): Buffer => Buffer.from([0xc6, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
const mapHeader = (n: number): Buffer => Buffer.from([0x80 | n]);

// Field order as the reference client sends it: data first, chunk_id after.
const payload = bytes(100 * 1024, 5);
const storeParts = [
  mapHeader(4),
  packr.pack('command'),
  packr.pack('store_chunk'),
  packr.pack('data'),
  bin32(payload.length),
  payload,
  packr.pack('chunk_id'),
  packr.pack('abc'),
  packr.pack('file_path'),
  packr.pack('/dir/f'),
];
const store = frameOf(storeParts);

type Asserts = Record<'equal' | 'same' | 'ok' | 'fail', (...args: any[]) => unknown>;

function checkStore(t: Asserts, out: DecodedFrame[], provider: MemoryProvider, what: string): void {
  t.equal(out.length, 1, `${what}: one frame`);
  const f = out[0]!;
  if (f.kind !== 'streamed') {
    t.fail(`${what}: expected streamed, got ${f.kind}`);
    return;
  }
  t.same(decodeBody(f.skeleton), { command: 'store_chunk', data: null, chunk_id: 'abc', file_path: '/dir/f' }, `${what}: skeleton`);
  t.same(
    f.spills.map((s) => s.key),
    ['data'],
    `${what}: spilled key`,
  );
  t.ok(provider.opened.length === 1 && provider.opened[0]!.bytes.equals(payload), `${what}: spilled bytes`);
}

t.test('a large frame in one read is walked and its payload spilled', async (t) => {
  const provider = new MemoryProvider();
  const out: DecodedFrame[] = [];
  new LengthFramer(1 << 20, pool, streaming(provider)).push(store.frame, out);
  checkStore(t, out, provider, 'whole');
});

t.test('split in two at every field boundary and around them', async (t) => {
  for (const boundary of store.cuts) {
    for (const cut of [boundary - 1, boundary, boundary + 1]) {
      if (cut < 0 || cut > store.frame.length) continue;
      const provider = new MemoryProvider();
      const out: DecodedFrame[] = [];
      const d = new LengthFramer(1 << 20, pool, streaming(provider));
      d.push(store.frame.subarray(0, cut), out);
      d.push(store.frame.subarray(cut), out);
      checkStore(t, out, provider, `cut at ${cut}`);
      t.equal(d.inFrame, false);
    }
  }
});

t.test('one byte at a time, payload included', async (t) => {
  const provider = new MemoryProvider();
  const out: DecodedFrame[] = [];
  const d = new LengthFramer(1 << 20, pool, streaming(provider));
  let sawActive = false;
  for (let i = 0; i < store.frame.length; i++) {
    d.push(store.frame.subarray(i, i + 1), out);
    if (d.activeSpill === provider.opened[0]) sawActive = true;
    if (i === 10) t.equal(d.pendingBytes, 11, 'pending counts prefix and body bytes');
  }
  checkStore(t, out, provider, 'byte by byte');
  t.ok(sawActive, 'the target receiving the payload is exposed for back-pressure');
  t.equal(d.activeSpill, null);
});

t.test('frames around a streamed one decode normally', async (t) => {
  const small = packr.pack({ command: 'check_space', size: 5 });
  const smallFrame = frameOf([small]).frame;
  const provider = new MemoryProvider();
  const out: DecodedFrame[] = [];
  const d = new LengthFramer(1 << 20, pool, streaming(provider));
  const all = Buffer.concat([smallFrame, store.frame, smallFrame, store.frame]);
  for (let i = 0; i < all.length; i += 4000) d.push(all.subarray(i, i + 4000), out);
  t.same(out.map((f) => f.kind), ['frame', 'streamed', 'frame', 'streamed']);
  t.same(out[0]!.kind === 'frame' && decodeBody(out[0]!.body), { command: 'check_space', size: 5 });
  t.equal(provider.opened.length, 2);
  t.ok(provider.opened.every((p) => p.bytes.equals(payload)));
});

t.test('every msgpack shape in the other fields survives the walk', async (t) => {
  const others = {
    ints: [0, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32 + 5, -1, -32, -33, -200, -40000, -(2 ** 31) - 1],
    floats: [0.5, 1e300],
    strs: ['', 'x'.repeat(31), 'y'.repeat(200), 'z'.repeat(70000)],
    nested: { a: [1, [2, { b: null, c: true, d: false }]], e: {} },
    small_bin: Buffer.alloc(1000, 3),
    wide: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i])),
    long: Array.from({ length: 70 }, (_, i) => i),
  };
  const parts = [mapHeader(Object.keys(others).length + 1), packr.pack('data'), bin32(payload.length), payload];
  for (const [k, v] of Object.entries(others)) parts.push(packr.pack(k), packr.pack(v));
  const { frame } = frameOf(parts);
  const provider = new MemoryProvider();
  const out: DecodedFrame[] = [];
  const d = new LengthFramer(1 << 20, pool, streaming(provider));
  for (let i = 0; i < frame.length; i += 777) d.push(frame.subarray(i, i + 777), out);
  const f = out[0]!;
  t.equal(f.kind, 'streamed');
  if (f.kind === 'streamed') t.same(decodeBody(f.skeleton), { data: null, ...others });
  t.ok(provider.opened[0]!.bytes.equals(payload));
});

t.test('bins under the spill size and bins under non-string keys stay in memory', async (t) => {
  const mid = Buffer.alloc(10_000, 1);
  const parts = [mapHeader(3), packr.pack('small'), packr.pack(mid), packr.pack(7), bin32(payload.length), payload, packr.pack('k'), packr.pack('v')];
  const provider = new MemoryProvider();
  const out: DecodedFrame[] = [];
  new LengthFramer(1 << 20, pool, streaming(provider)).push(frameOf(parts).frame, out);
  const f = out[0]!;
  t.equal(f.kind, 'streamed');
  t.equal(provider.opened.length, 0);
  if (f.kind === 'streamed') {
    const decoded = decodeBody(f.skeleton) as Record<string, Buffer>;
    t.ok(decoded.small!.equals(mid));
    t.ok(decoded['7']!.equals(payload));
  }
});

t.test('a large body that is not a map is assembled and decoded as usual', async (t) => {
  const body = packr.pack(payload);
  const { frame } = frameOf([body]);
  const provider = new MemoryProvider();
  for (const step of [1, 3, frame.length]) {
    const out: DecodedFrame[] = [];
    const d = new LengthFramer(1 << 20, pool, streaming(provider));
    for (let i = 0; i < frame.length; i += step) d.push(frame.subarray(i, i + step), out);
    const f = out[0]!;
    t.equal(f.kind, 'frame', `step ${step}`);
    if (f.kind === 'frame') {
      t.ok((decodeBody(f.body) as Buffer).equals(payload));
      f.lease?.release();
    }
  }
  t.equal(provider.opened.length, 0);
});

t.test('malformed large frames are reported, their spills discarded, and the stream stays framed', async (t) => {
  const cases: Array<[string, Buffer[]]> = [
    ['reserved byte 0xc1', [mapHeader(2), packr.pack('data'), bin32(payload.length), payload, packr.pack('x'), Buffer.from([0xc1])]],
    ['map shorter than declared', [mapHeader(3), packr.pack('data'), bin32(payload.length), payload, packr.pack('x'), packr.pack(1)]],
    ['bytes after the map', [mapHeader(1), packr.pack('data'), bin32(payload.length), payload, packr.pack('x')]],
    ['bin longer than the frame', [mapHeader(1), packr.pack('data'), bin32(payload.length + 10), payload]],
  ];
  const next = frameOf([packr.pack({ command: 'check_space', size: 1 })]).frame;
  for (const [name, parts] of cases) {
    const provider = new MemoryProvider();
    const out: DecodedFrame[] = [];
    const d = new LengthFramer(1 << 20, pool, streaming(provider));
    const all = Buffer.concat([frameOf(parts).frame, next]);
    for (let i = 0; i < all.length; i += 5000) d.push(all.subarray(i, i + 5000), out);
    t.same(out[0], { kind: 'malformed', why: 'undecodable body' }, name);
    t.equal(out[1]?.kind, 'frame', `${name}: next frame still found`);
    t.ok(provider.opened.every((p) => p.discarded), `${name}: spills discarded`);
  }
});

t.test('duplicate fields and oversized fields are refused, with the spill discarded', async (t) => {
  const dup = [mapHeader(3), packr.pack('data'), bin32(payload.length), payload, packr.pack('data'), packr.pack(1), packr.pack('a'), packr.pack(2)];
  const big = [mapHeader(2), packr.pack('data'), bin32(payload.length), payload, packr.pack('note'), packr.pack('n'.repeat(SKELETON_MAX_BYTES))];
  for (const [parts, why] of [
    [dup, 'duplicate field data'],
    [big, `fields besides large bin values exceed ${SKELETON_MAX_BYTES} bytes`],
  ] as const) {
    const provider = new MemoryProvider();
    const out: DecodedFrame[] = [];
    const d = new LengthFramer(4 << 20, pool, streaming(provider));
    d.push(frameOf([...parts]).frame, out);
    d.push(store.frame, out);
    t.same(out[0], { kind: 'refused', why });
    t.equal(out[1]?.kind, 'streamed', 'the next frame is unaffected');
    t.equal(provider.opened[0]!.discarded, true);
  }
});

t.test('a provider that refuses: the bytes are dropped and finish() reports its error', async (t) => {
  const provider = new MemoryProvider();
  provider.refuse = new Error('no room');
  const out: DecodedFrame[] = [];
  new LengthFramer(1 << 20, pool, streaming(provider)).push(store.frame, out);
  const f = out[0]!;
  t.equal(f.kind, 'streamed');
  if (f.kind === 'streamed') await t.rejects(f.spills[0]!.target.finish(), { message: 'no room' });
});

t.test('closing mid-frame discards the spill; frames under the threshold are not walked', async (t) => {
  const provider = new MemoryProvider();
  const d = new LengthFramer(1 << 20, pool, streaming(provider));
  d.push(store.frame.subarray(0, 5000), []);
  t.equal(d.inFrame, true);
  d.dispose();
  t.equal(provider.opened[0]!.discarded, true);

  const out: DecodedFrame[] = [];
  new LengthFramer(1 << 20, pool, streaming(provider, store.frame.length - 4 + 1)).push(store.frame, out);
  t.equal(out[0]!.kind, 'frame', 'a body one byte under the threshold is assembled');
  t.equal(provider.opened.length, 1);
});

t.test('closing mid-frame of a non-map body returns its slab', async (t) => {
  const p = new BufferPool(16 << 20);
  const d = new LengthFramer(1 << 20, p, streaming(new MemoryProvider()));
  d.push(frameOf([packr.pack(payload)]).frame.subarray(0, 3000), []);
  d.dispose();
  // The body grows with what arrived (issue 14): 3000 bytes hold the first 64 KiB slab only.
  t.equal(p.retained, 64 * 1024);
});
