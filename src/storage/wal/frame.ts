import { crc32 } from 'node:zlib';

// One log frame, integers big-endian:
//   0  4  length of the body in bytes (the 8 header bytes not counted)
//   4  4  CRC-32 of the body
//   8  n  body
// A write torn by a crash leaves a short frame or one whose CRC fails: that frame and
// everything after it were never acknowledged (a record is acknowledged only once the
// whole file up to its end is flushed), so the reader stops there.
export const FRAME_HEADER_BYTES = 8;

export function frameOf(body: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.length);
  frame.writeUInt32BE(body.length, 0);
  frame.writeUInt32BE(crc32(body), 4);
  body.copy(frame, FRAME_HEADER_BYTES);
  return frame;
}

/** The whole frames at the start of `bytes`, and how many bytes they span (the rest is a torn tail). */
export function framesIn(bytes: Buffer): { bodies: Buffer[]; validBytes: number } {
  const bodies: Buffer[] = [];
  let at = 0;
  while (at + FRAME_HEADER_BYTES <= bytes.length) {
    const length = bytes.readUInt32BE(at);
    const end = at + FRAME_HEADER_BYTES + length;
    if (end > bytes.length) break;
    const body = bytes.subarray(at + FRAME_HEADER_BYTES, end);
    if (crc32(body) !== bytes.readUInt32BE(at + 4)) break;
    bodies.push(body);
    at = end;
  }
  return { bodies, validBytes: at };
}
