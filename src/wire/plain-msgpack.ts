// The protocol speaks plain msgpack only: nil, bool, int, float, str, bin, array, map.
// Extension types are refused before any decoder sees them: msgpackr gives meaning to
// several (structured-clone shared references 0x69/0x70, records, sets, typed arrays,
// errors, regexps), and shared references let a 553-byte frame stand for a value whose
// parts repeat each other 2^40 times. Every walk here is a loop over bytes with an explicit
// stack: depth and node count are bounded, and the cost is linear in the body's length.

/** Bounds on one decoded value (protocol/PROTOCOL.md, section 5). */
export interface ValueLimits {
  /** Containers nested inside one another; the top-level map is depth 1. */
  readonly maxDepth: number;
  /** Values of every kind, containers included; a map entry counts its key and its value. */
  readonly maxNodes: number;
}

export const DEFAULT_VALUE_LIMITS: ValueLimits = { maxDepth: 32, maxNodes: 1_000_000 };

/** Why a body is not one plain msgpack value within the limits. */
export class NotPlainMsgpack extends Error {
  override name = 'NotPlainMsgpack';
}

/** Header bytes after the type byte for non-extension types; -1 for types the protocol refuses. */
function headerBytes(b: number): number {
  if (b <= 0xbf || b >= 0xe0) return 0;
  switch (b) {
    case 0xc0: case 0xc2: case 0xc3:
      return 0;
    case 0xc4: case 0xcc: case 0xd0: case 0xd9:
      return 1;
    case 0xc5: case 0xcd: case 0xd1: case 0xda: case 0xdc: case 0xde:
      return 2;
    case 0xc6: case 0xca: case 0xce: case 0xd2: case 0xdb: case 0xdd: case 0xdf:
      return 4;
    case 0xcb: case 0xcf: case 0xd3:
      return 8;
    default:
      // 0xc1 (never used) and every extension: fixext 0xd4-0xd8, ext 0xc7-0xc9.
      return -1;
  }
}

/**
 * Throws NotPlainMsgpack unless `body` is exactly one plain msgpack value within `limits`.
 * Leaves decoding to msgpackr: once this passed, its work is linear in the body too.
 */
export function checkPlain(body: Buffer, limits: ValueLimits = DEFAULT_VALUE_LIMITS): void {
  const end = body.length;
  // Children still to come in each open container, innermost last.
  const open: number[] = [];
  let pos = 0;
  let nodes = 0;
  for (;;) {
    if (pos >= end) throw new NotPlainMsgpack('truncated');
    const b = body[pos]!;
    const extra = headerBytes(b);
    if (extra < 0) throw new NotPlainMsgpack(b === 0xc1 ? 'msgpack byte 0xc1 is never used' : `msgpack extension type 0x${b.toString(16)} is not accepted`);
    if (pos + 1 + extra > end) throw new NotPlainMsgpack('truncated');
    if (++nodes > limits.maxNodes) throw new NotPlainMsgpack(`more than ${limits.maxNodes} values`);
    let children = 0;
    let raw = 0;
    if (b >= 0x80 && b <= 0x8f) children = 2 * (b & 0x0f);
    else if (b >= 0x90 && b <= 0x9f) children = b & 0x0f;
    else if (b >= 0xa0 && b <= 0xbf) raw = b & 0x1f;
    else if (b === 0xc4 || b === 0xd9) raw = body[pos + 1]!;
    else if (b === 0xc5 || b === 0xda) raw = body.readUInt16BE(pos + 1);
    else if (b === 0xc6 || b === 0xdb) raw = body.readUInt32BE(pos + 1);
    else if (b === 0xdc) children = body.readUInt16BE(pos + 1);
    else if (b === 0xdd) children = body.readUInt32BE(pos + 1);
    else if (b === 0xde) children = 2 * body.readUInt16BE(pos + 1);
    else if (b === 0xdf) children = 2 * body.readUInt32BE(pos + 1);
    pos += 1 + extra + raw;
    if (pos > end) throw new NotPlainMsgpack('truncated');
    if (children > 0) {
      if (open.length + 1 > limits.maxDepth) throw new NotPlainMsgpack(`nested deeper than ${limits.maxDepth}`);
      // Each child takes at least one byte: a count the rest of the body cannot hold is a lie.
      if (children > end - pos) throw new NotPlainMsgpack('truncated');
      open.push(children);
      continue;
    }
    // A value is complete: it completes its container, and perhaps the ones around it.
    while (open.length > 0) {
      const left = open[open.length - 1]! - 1;
      if (left > 0) {
        open[open.length - 1] = left;
        break;
      }
      open.pop();
    }
    if (open.length === 0) break;
  }
  if (pos !== end) throw new NotPlainMsgpack('trailing bytes');
}
