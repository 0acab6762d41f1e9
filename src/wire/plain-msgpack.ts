// The protocol speaks plain msgpack only: nil, bool, int, float, str, bin, array, map.
// Extension types are refused before any decoder sees them: msgpackr gives meaning to
// several (structured-clone shared references 0x69/0x70, records, sets, typed arrays,
// errors, regexps), and shared references let a 553-byte frame stand for a value whose
// parts repeat each other 2^40 times. Every walk here is a loop over bytes with an explicit
// stack: depth and node count are bounded, and the cost is linear in the body's length.
import { childCount, extraHeaderBytes, isExtHeader, NEVER_USED, rawLength } from './msgpack-tokens.js';

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
    if (b === NEVER_USED) throw new NotPlainMsgpack('msgpack byte 0xc1 is never used');
    if (isExtHeader(b)) throw new NotPlainMsgpack(`msgpack extension type 0x${b.toString(16)} is not accepted`);
    const extra = extraHeaderBytes(b);
    if (pos + 1 + extra > end) throw new NotPlainMsgpack('truncated');
    if (++nodes > limits.maxNodes) throw new NotPlainMsgpack(`more than ${limits.maxNodes} values`);
    const children = childCount(body, pos);
    const raw = rawLength(body, pos);
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
