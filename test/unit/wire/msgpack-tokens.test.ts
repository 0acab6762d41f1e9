import t from 'tap';
import { childCount, extraHeaderBytes, isExtHeader, rawLength } from '../../../src/wire/msgpack-tokens.js';

// [what, first bytes of the token, header bytes after the type byte, data bytes, nested values]
const TOKENS: Array<[string, string, number, number, number]> = [
  ['positive fixint', '7f', 0, 0, 0],
  ['negative fixint', 'e0', 0, 0, 0],
  ['nil', 'c0', 0, 0, 0],
  ['true', 'c3', 0, 0, 0],
  ['fixmap of 3', '83', 0, 0, 6],
  ['fixarray of 15', '9f', 0, 0, 15],
  ['fixstr of 31', 'bf', 0, 31, 0],
  ['bin8', 'c4ff', 1, 255, 0],
  ['bin16', 'c50100', 2, 256, 0],
  ['bin32', 'c600010000', 4, 65536, 0],
  ['str8', 'd920', 1, 32, 0],
  ['str16', 'da0100', 2, 256, 0],
  ['str32', 'db00010000', 4, 65536, 0],
  ['ext8', 'c70501', 2, 5, 0],
  ['ext16', 'c8010001', 3, 256, 0],
  ['ext32', 'c90000000201', 5, 2, 0],
  ['float32', 'ca', 4, 0, 0],
  ['float64', 'cb', 8, 0, 0],
  ['uint8', 'cc', 1, 0, 0],
  ['uint64', 'cf', 8, 0, 0],
  ['int16', 'd1', 2, 0, 0],
  ['fixext1', 'd401', 1, 1, 0],
  ['fixext16', 'd801', 1, 16, 0],
  ['array16', 'dc0100', 2, 0, 256],
  ['array32', 'dd00010000', 4, 0, 65536],
  ['map16', 'de0100', 2, 0, 512],
  ['map32', 'df00000002', 4, 0, 4],
];

t.test('every msgpack format: header bytes, data bytes and nested values', async (t) => {
  for (const [what, hex, extra, raw, children] of TOKENS) {
    // Read at an offset, as the plain-msgpack check does inside a body.
    const buf = Buffer.concat([Buffer.from('00', 'hex'), Buffer.from(hex, 'hex')]);
    t.same([extraHeaderBytes(buf[1]!), rawLength(buf, 1), childCount(buf, 1)], [extra, raw, children], what);
  }
  t.equal(extraHeaderBytes(0xc1), -1, '0xc1 is never used');
});

t.test('extension headers are exactly fixext 0xd4-0xd8 and ext 0xc7-0xc9', async (t) => {
  const ext = [];
  for (let b = 0; b < 256; b++) if (isExtHeader(b)) ext.push(b.toString(16));
  t.same(ext, ['c7', 'c8', 'c9', 'd4', 'd5', 'd6', 'd7', 'd8']);
});
