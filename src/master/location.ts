// Where chunk servers and clients say they are: the reference's 2-D coordinates, which
// stand in for racks and networks (shared/reference-protocol.md).

export type Location = [number, number];

export function distance(a: readonly [number, number], b: readonly [number, number]): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1]);
}
