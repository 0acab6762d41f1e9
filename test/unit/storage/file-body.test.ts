// Read-ahead of a streamed file body (issue 22 item 4): up to READ_AHEAD_BLOCKS reads are in
// flight before the first block is sent, a block's buffer is read again only once the
// socket has taken it, and every block, however far ahead it was read, passes its check
// before the sink sees it. A real file; its handle's reads are held at a gate to see what
// is asked of the disk before anything comes back.
import { open, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { fileBodyOf, READ_AHEAD_BLOCKS, READ_BLOCK_BYTES } from '../../../src/storage/io/file-body.js';
import { BufferPool } from '../../../src/wire/buffer-pool.js';
import { bytes } from '../../support/data.js';
import { tempDir } from '../../support/temp.js';

const BLOCKS = 8;

/** The file's handle, whose reads wait until `open()`; `asked` lists the offsets read, in order. */
async function gatedFile(t: Parameters<typeof tempDir>[0], data: Buffer): Promise<{ handle: FileHandle; asked: number[]; open: () => void }> {
  const path = join(await tempDir(t), 'chunk');
  await writeFile(path, data);
  const real = await open(path, 'r');
  t.teardown(() => real.close());
  let opened!: () => void;
  const gate = new Promise<void>((resolve) => (opened = resolve));
  const asked: number[] = [];
  const handle = Object.create(real) as FileHandle;
  handle.read = ((buf: Buffer, off: number, len: number, pos: number) => {
    asked.push(pos);
    return gate.then(() => real.read(buf, off, len, pos));
  }) as FileHandle['read'];
  return { handle, asked, open: opened };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

t.test('reads run ahead of the sends, each buffer reused only once the sink has taken it', async (t) => {
  const data = bytes(BLOCKS * READ_BLOCK_BYTES - 1000, 1);
  const file = await gatedFile(t, data);
  const sent: Buffer[] = [];
  const taken: Array<() => void> = [];
  const body = fileBodyOf(file.handle, data.length, new BufferPool(0), async () => undefined);
  const piped = body.pipe((block) => {
    sent.push(Buffer.from(block));
    return new Promise<void>((resolve) => taken.push(resolve));
  });
  await turn();
  t.equal(READ_AHEAD_BLOCKS, 4);
  t.same(file.asked, [0, 1, 2, 3].map((k) => k * READ_BLOCK_BYTES), 'four blocks are asked of the disk before any comes back');
  file.open();
  while (sent.length < READ_AHEAD_BLOCKS) await turn();
  t.equal(file.asked.length, READ_AHEAD_BLOCKS, 'while the socket has taken nothing, no buffer is read again');
  taken.shift()!();
  while (file.asked.length === READ_AHEAD_BLOCKS) await turn();
  t.equal(file.asked[READ_AHEAD_BLOCKS], READ_AHEAD_BLOCKS * READ_BLOCK_BYTES, 'the first block taken frees its buffer for the fifth');
  while (sent.length < BLOCKS || taken.length > 0) {
    taken.shift()?.();
    await turn();
  }
  await piped;
  t.ok(Buffer.concat(sent).equals(data), 'the blocks reach the sink in order, whole');
});

t.test('a damaged block read ahead is never handed on', async (t) => {
  const data = bytes(BLOCKS * READ_BLOCK_BYTES, 2);
  const file = await gatedFile(t, data);
  const bad = 2 * READ_BLOCK_BYTES;
  const sent: number[] = [];
  const inspected: number[] = [];
  let offset = 0;
  const body = fileBodyOf(file.handle, data.length, new BufferPool(0), async () => undefined, {
    inspect: (_block, at) => {
      inspected.push(at);
      if (at === bad) throw new Error('block 2 does not match its sum');
    },
  });
  file.open();
  await t.rejects(
    body.pipe(async (block) => {
      sent.push(offset);
      offset += block.length;
    }),
    /block 2 does not match/,
  );
  t.ok(file.asked.includes(3 * READ_BLOCK_BYTES), 'the block after the damaged one had been read ahead');
  t.same(sent, [0, READ_BLOCK_BYTES], 'only the blocks before the damage were sent');
  t.same(inspected, [0, READ_BLOCK_BYTES, bad], 'each block was checked before it was sent');
});
