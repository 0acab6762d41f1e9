// Replication you can see (issue 25 item 3): the one wording of "chunks below the factor",
// shared by gfs and the console so the two say the same.

/** One line naming the chunks written below the replication factor; none when all reached it or the master gives no factor. */
export function copyWarnings(chunks: ReadonlyArray<{ index: number; copies: number }>, factor: number | null, verb = 'stored'): string[] {
  if (factor === null) return [];
  const short = chunks.flatMap((c) => (c.copies < factor ? [`chunk ${c.index} has ${c.copies} of ${factor} copies`] : []));
  return short.length === 0 ? [] : [`${short.length} of ${chunks.length} chunks ${verb} below the replication factor (${short.join(', ')}); the master adds copies when servers have room`];
}

/** A put's per-chunk copies (in file order) as copyWarnings takes them. */
export function indexed(copies: readonly number[]): Array<{ index: number; copies: number }> {
  return copies.map((n, index) => ({ index, copies: n }));
}
