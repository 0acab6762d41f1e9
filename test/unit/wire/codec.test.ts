import { execFileSync } from 'node:child_process';
import t from 'tap';
import { decodeBody, encodeBody, encodeFrame } from '../../../src/wire/codec.js';
import type { FileBody } from '../../../src/wire/payload.js';

// Values whose Python msgpack encoding (use_bin_type=True) the encoder must reproduce exactly.
const CASES: Array<[string, unknown]> = [
  ['ints', [0, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 40, -1, -32, -33, -128, -129, -32768, -32769, -(2 ** 31), -(2 ** 31) - 1]],
  ['floats', [0.5, -2.25, 1e300]],
  ['atoms', [null, true, false]],
  ['strings', ['', 'a'.repeat(31), 'b'.repeat(32), 'c'.repeat(255), 'd'.repeat(256), 'é'.repeat(40000)]],
  ['map', { status: 'error', message: 'insufficient_space', available_space: 5 * 2 ** 30 }],
  ['nested', { a: [1, [2, { b: null }]], c: {} }],
  ['wide', Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i]))],
  ['long array', Array.from({ length: 20 }, (_, i) => i)],
];

function pythonHex(json: string): string {
  const py = `import json,msgpack,sys;print(msgpack.packb(json.loads(sys.argv[1]),use_bin_type=True).hex())`;
  return execFileSync('/usr/bin/python3', ['-c', py, json], { encoding: 'utf8' }).trim();
}

t.test('encodes exactly what Python msgpack encodes', async (t) => {
  for (const [name, value] of CASES) {
    t.equal(encodeBody(value).toString('hex'), pythonHex(JSON.stringify(value)), name);
    t.same(decodeBody(encodeBody(value)), value, `${name} decodes back`);
  }
});

t.test('bin values use bin8/16/32 and large ones stay separate pieces', async (t) => {
  t.equal(encodeBody(Buffer.alloc(0)).toString('hex'), 'c400');
  t.equal(encodeBody(Buffer.alloc(300, 1)).subarray(0, 3).toString('hex'), 'c5012c');
  const big = Buffer.alloc(100_000, 9);
  const pieces = encodeFrame({ status: 'ok', data: big });
  t.equal(pieces.length, 2);
  t.equal(pieces[1], big, 'payload is the very Buffer, not a copy');
  const head = pieces[0] as Buffer;
  t.equal(head.readUInt32BE(0), head.length - 4 + big.length, 'prefix counts the body only');
  t.equal(head.subarray(head.length - 5).toString('hex'), 'c6000186a0');
  const u8 = new Uint8Array(70_000);
  t.equal((encodeFrame(u8)[1] as Buffer).length, 70_000);
});

t.test('file bodies are framed by header only', async (t) => {
  const body: FileBody = { kind: 'file', size: 1 << 20, pipe: async () => undefined, close: async () => undefined };
  const pieces = encodeFrame({ status: 'ok', data: body, more: 1 });
  t.equal(pieces.length, 3);
  t.equal(pieces[1], body);
  const head = pieces[0] as Buffer;
  t.equal(head.readUInt32BE(0), (head.length - 4) + (1 << 20) + (pieces[2] as Buffer).length);
});

t.test('sets and bigints; unsupported values throw', async (t) => {
  t.equal(encodeBody(new Set([1, 2])).toString('hex'), '920102');
  t.equal(encodeBody(2n ** 40n).toString('hex'), 'cf0000010000000000');
  t.equal(encodeBody({ skip: undefined, keep: 1 }).toString('hex'), '81a46b65657001');
  t.throws(() => encodeBody(() => 1), TypeError);
});

t.test('decoder: Python uint64 becomes a number, trailing bytes are an error', async (t) => {
  t.equal(decodeBody(Buffer.from('cf0000000200000000', 'hex')), 2 ** 33);
  t.throws(() => decodeBody(Buffer.from('81a16101c0', 'hex')));
  t.throws(() => decodeBody(Buffer.from('81', 'hex')));
});
