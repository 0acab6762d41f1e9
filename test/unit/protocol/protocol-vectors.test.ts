// The conformance vectors of protocol/vectors/ against our codec, in both directions:
// encodeBody(value) gives exactly the bytes Python's msgpack gives, and decodeBody(bytes)
// gives the value back.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { decodeBody, encodeBody, encodeFrame, Float64 } from '../../../src/wire/codec.js';
import { ROOT } from '../../support/paths.js';

const VECTORS = join(ROOT, 'protocol', 'vectors');

interface Case {
  name: string;
  hex: string;
  value: unknown;
  command?: string;
  direction?: 'request' | 'reply';
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/**
 * The JS value a vector's JSON rendering stands for (protocol/PROTOCOL.md, "Conformance
 * vectors"). `encode` keeps what our encoder needs to reproduce Python's bytes (exact
 * bigints, explicit floats); `decode` is what our decoder returns (every integer as a
 * number, floats as numbers).
 */
function fromJson(v: Json, mode: 'encode' | 'decode'): unknown {
  if (Array.isArray(v)) return v.map((x) => fromJson(x, mode));
  if (v === null || typeof v !== 'object') return v;
  const repeat = typeof v.$repeat === 'number' ? v.$repeat : 1;
  if (typeof v.$bin === 'string') return Buffer.from(v.$bin.repeat(repeat), 'hex');
  if (typeof v.$str === 'string') return v.$str.repeat(repeat);
  if (typeof v.$int === 'string') return mode === 'encode' ? BigInt(v.$int) : Number(BigInt(v.$int));
  if (v.$float !== undefined) {
    const f = v.$float === 'inf' ? Infinity : v.$float === '-inf' ? -Infinity : Number(v.$float);
    return mode === 'encode' ? new Float64(f) : f;
  }
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fromJson(x, mode)]));
}

const files = readdirSync(VECTORS).filter((f) => f.endsWith('.json')).sort();
const all: Array<[string, Case]> = files.flatMap((f) =>
  (JSON.parse(readFileSync(join(VECTORS, f), 'utf8')) as { cases: Case[] }).cases.map((c): [string, Case] => [f, c]),
);

t.ok(files.includes('encoding.json') && files.includes('chunk-server.json') && files.includes('master.json'), 'vector files present');
t.ok(all.length > 100, `${all.length} vectors`);

for (const file of files) {
  t.test(file, async (t) => {
    for (const [, c] of all.filter(([f]) => f === file)) {
      const bytes = Buffer.from(c.hex, 'hex');
      const encoded = encodeBody(fromJson(c.value as Json, 'encode'));
      if (bytes.length > 1024) t.ok(encoded.equals(bytes), `encode ${c.name} (${bytes.length} bytes)`);
      else t.equal(encoded.toString('hex'), c.hex, `encode ${c.name}`);

      const framed = Buffer.concat(encodeFrame(fromJson(c.value as Json, 'encode')) as Buffer[]);
      t.equal(framed.readUInt32BE(0), bytes.length, `frame prefix ${c.name}`);
      t.ok(framed.subarray(4).equals(bytes), `frame body ${c.name}`);

      t.same(decodeBody(bytes), fromJson(c.value as Json, 'decode'), `decode ${c.name}`);
    }
  });
}

t.test('integers beyond the safe range decode as the nearest number', async (t) => {
  t.equal(decodeBody(Buffer.from('cfffffffffffffffff', 'hex')), 2 ** 64);
  t.equal(decodeBody(Buffer.from('d38000000000000000', 'hex')), -(2 ** 63));
  t.throws(() => encodeBody(1n << 64n), RangeError);
  t.throws(() => encodeBody(-(1n << 63n) - 1n), RangeError);
  t.equal(encodeBody(5n).toString('hex'), '05');
});

t.test('the never-used byte 0xc1 is undecodable wherever it appears', async (t) => {
  for (const hex of ['c1', '81a161c1', '82a1610ca16292c0c1', '91c1']) {
    t.throws(() => decodeBody(Buffer.from(hex, 'hex')), hex);
  }
  t.same(decodeBody(Buffer.from('81a161c401c1', 'hex')), { a: Buffer.from([0xc1]) }, 'inside bin it is data');
});
