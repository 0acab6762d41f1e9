// The shape of every msgpack token, read from its first bytes
// (https://github.com/msgpack/msgpack/blob/master/spec.md#formats). A token is the type byte,
// then a fixed number of header bytes, then `rawLength` bytes of str/bin/ext data; containers
// are followed by `childCount` nested values instead.

/** msgpack never uses this type byte. */
export const NEVER_USED = 0xc1;
export const NIL = 0xc0;

/** Header bytes after the type byte (an ext's type byte included); -1 for NEVER_USED. */
export function extraHeaderBytes(b: number): number {
  if (b <= 0xbf || b >= 0xe0) return 0;
  switch (b) {
    case NEVER_USED:
      return -1;
    case 0xc4: case 0xcc: case 0xd0: case 0xd9:
      return 1;
    case 0xc5: case 0xcd: case 0xd1: case 0xda: case 0xdc: case 0xde: case 0xc7:
      return 2;
    case 0xc8:
      return 3;
    case 0xc6: case 0xca: case 0xce: case 0xd2: case 0xdb: case 0xdd: case 0xdf:
      return 4;
    case 0xc9:
      return 5;
    case 0xcb: case 0xcf: case 0xd3:
      return 8;
    case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
      return 1;
    default:
      return 0;
  }
}

/** Data bytes (str, bin, ext) after the complete header of the token at `buf[at]`. */
export function rawLength(buf: Buffer, at: number): number {
  const b = buf[at]!;
  if (b >= 0xa0 && b <= 0xbf) return b & 0x1f;
  switch (b) {
    case 0xc4: case 0xd9: case 0xc7:
      return buf[at + 1]!;
    case 0xc5: case 0xda: case 0xc8:
      return buf.readUInt16BE(at + 1);
    case 0xc6: case 0xdb: case 0xc9:
      return buf.readUInt32BE(at + 1);
    case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
      return 1 << (b - 0xd4);
    default:
      return 0;
  }
}

/** Values nested directly under the container token at `buf[at]` (array items, map keys and values). */
export function childCount(buf: Buffer, at: number): number {
  const b = buf[at]!;
  if (b >= 0x80 && b <= 0x8f) return 2 * (b & 0x0f);
  if (b >= 0x90 && b <= 0x9f) return b & 0x0f;
  switch (b) {
    case 0xdc:
      return buf.readUInt16BE(at + 1);
    case 0xdd:
      return buf.readUInt32BE(at + 1);
    case 0xde:
      return 2 * buf.readUInt16BE(at + 1);
    case 0xdf:
      return 2 * buf.readUInt32BE(at + 1);
    default:
      return 0;
  }
}

export const isMapHeader = (b: number): boolean => (b >= 0x80 && b <= 0x8f) || b === 0xde || b === 0xdf;
export const isStrHeader = (b: number): boolean => (b >= 0xa0 && b <= 0xbf) || b === 0xd9 || b === 0xda || b === 0xdb;
export const isBinHeader = (b: number): boolean => b === 0xc4 || b === 0xc5 || b === 0xc6;
/** fixext 0xd4-0xd8 and ext 0xc7-0xc9. */
export const isExtHeader = (b: number): boolean => (b >= 0xd4 && b <= 0xd8) || (b >= 0xc7 && b <= 0xc9);
