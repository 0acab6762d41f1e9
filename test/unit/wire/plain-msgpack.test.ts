// The plain-msgpack gate: bounds on depth and value count, every extension type refused,
// and a body that must be exactly one value.
import t from 'tap';
import { decodeBody, encodeBody } from '../../../src/wire/codec.js';
import { checkPlain, DEFAULT_VALUE_LIMITS } from '../../../src/wire/plain-msgpack.js';

const nestedArrays = (depth: number): Buffer => Buffer.concat([Buffer.alloc(depth, 0x91), Buffer.from([0xc0])]);

t.test('depth: 32 nested containers pass, 33 do not', async (t) => {
  t.doesNotThrow(() => checkPlain(nestedArrays(DEFAULT_VALUE_LIMITS.maxDepth)));
  t.throws(() => checkPlain(nestedArrays(DEFAULT_VALUE_LIMITS.maxDepth + 1)), /nested deeper than 32/);
});

t.test('value count is bounded, keys included', async (t) => {
  const list = encodeBody(Array.from({ length: 9 }, () => null));
  t.doesNotThrow(() => checkPlain(list, { maxDepth: 4, maxNodes: 10 }));
  t.throws(() => checkPlain(list, { maxDepth: 4, maxNodes: 9 }), /more than 9 values/);
  t.throws(() => checkPlain(encodeBody({ a: 1, b: 2 }), { maxDepth: 4, maxNodes: 4 }), /more than 4 values/);
});

t.test('every extension header is refused, bin holding the same bytes is data', async (t) => {
  for (const b of [0xc7, 0xc8, 0xc9, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8]) {
    t.throws(() => checkPlain(Buffer.from([b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])), /extension type/, b.toString(16));
  }
  t.same(decodeBody(Buffer.from('c402d470', 'hex')), Buffer.from('d470', 'hex'));
});

t.test('truncated, trailing and lying counts', async (t) => {
  t.throws(() => checkPlain(Buffer.from('92c0', 'hex')), /truncated/);
  t.throws(() => checkPlain(Buffer.from('c0c0', 'hex')), /trailing/);
  t.throws(() => checkPlain(Buffer.from('ddffffffff', 'hex')), /truncated/);
  t.throws(() => checkPlain(Buffer.from('c6ffffffff00', 'hex')), /truncated/);
  t.throws(() => checkPlain(Buffer.alloc(0)), /truncated/);
  t.same(decodeBody(encodeBody({ a: [1, { b: [] }], c: {} })), { a: [1, { b: [] }], c: {} });
});
