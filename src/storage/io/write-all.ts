import type { FileHandle } from 'node:fs/promises';

/**
 * Writes every buffer at `position` onwards, in as few writev calls as the kernel allows
 * (a short write resumes where it stopped); resolves with the bytes written.
 */
export async function writeAll(fh: FileHandle, buffers: Buffer[], position: number): Promise<number> {
  let rest = buffers;
  let pos = position;
  for (;;) {
    const { bytesWritten } = await fh.writev(rest, pos);
    if (bytesWritten === 0) throw new Error('write made no progress');
    pos += bytesWritten;
    let skip = bytesWritten;
    while (rest.length > 0 && skip >= rest[0]!.length) {
      skip -= rest[0]!.length;
      rest = rest.slice(1);
    }
    if (rest.length === 0) return pos - position;
    rest = [rest[0]!.subarray(skip), ...rest.slice(1)];
  }
}
