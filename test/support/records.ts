// Records for append tests: 4 KiB, named by a tag in their first bytes, the rest derived from
// the tag, so a record read back is recognised whole or not at all.
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import type { GfsClient } from '../../src/client/index.js';

export const RECORD_BYTES = 4096;

export function record(tag: string): Buffer {
  const out = Buffer.alloc(RECORD_BYTES);
  const head = Buffer.from(`${tag}|`);
  head.copy(out);
  let block = createHash('sha256').update(tag).digest();
  for (let at = head.length; at < RECORD_BYTES; at += block.length) {
    block.copy(out, at);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

/** The whole file as a reader gets it. */
export async function collect(client: GfsClient, path: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      parts.push(chunk);
      cb();
    },
  });
  await client.get(path, sink);
  client.close();
  return Buffer.concat(parts);
}
