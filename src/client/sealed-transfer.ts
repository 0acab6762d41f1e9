// Encrypted puts and gets (encryption.ts holds the format): a put seals its source as a
// stream; a get fetches the sealed bytes into a private temp folder and opens all of them
// there before one plaintext byte reaches the target, so a wrong key or a tampered byte
// leaves no partial output.
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { GfsError } from './errors.js';
import { openSealedFile, sealingStream, type EncryptionKey } from './encryption.js';
import { getToPath, writeTo, type GetDeps } from './get.js';

const COPY_BLOCK_BYTES = 1024 * 1024;

/** The source as a stream of one sealed record. */
export async function sealedSource(source: string | Buffer | Readable, key: EncryptionKey): Promise<Readable> {
  let input: Readable;
  if (Buffer.isBuffer(source)) input = Readable.from([source]);
  else if (typeof source === 'string') {
    const s = await stat(source).catch((err: NodeJS.ErrnoException) => {
      throw new GfsError('local_io', `cannot read ${source}: ${err.code === 'ENOENT' ? 'no such file' : err.code === 'EACCES' ? 'permission denied' : err.message}`);
    });
    if (!s.isFile()) throw new GfsError('local_io', `cannot read ${source}: not a regular file`);
    input = createReadStream(source);
  } else input = source;
  const seal = await sealingStream(key);
  input.on('error', (err) => seal.destroy(new GfsError('local_io', `cannot read the input: ${err.message}`)));
  // A file opened here is closed with the sealed stream, also when a put stops before reading it (file_exists).
  if (typeof source === 'string') seal.once('close', () => input.destroy());
  return input.pipe(seal);
}

/** Returns the plaintext bytes written to `target` (a path, replaced whole, or a stream). */
export async function getDecrypted(deps: GetDeps, remote: string, target: string | Writable, key: EncryptionKey, onProgress?: (done: number, total: number | undefined) => void): Promise<number> {
  // Beside a target file, so the rename over it stays on one file system.
  const near = typeof target === 'string' ? dirname(resolve(target)) : tmpdir();
  let dir: string;
  try {
    dir = await mkdtemp(join(near, '.gfs-decrypt-'));
  } catch (err) {
    throw new GfsError('local_io', `cannot write ${near}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    const sealed = join(dir, 'sealed');
    await getToPath(deps, remote, sealed, onProgress);
    const plain = join(dir, 'plain');
    const fh = await open(plain, 'wx', 0o600);
    let size: number;
    try {
      size = await openSealedFile(sealed, key, remote, async (b) => void (await fh.write(b)));
    } finally {
      await fh.close();
    }
    await rm(sealed);
    if (typeof target === 'string') {
      try {
        await rename(plain, target);
      } catch (err) {
        throw new GfsError('local_io', `cannot write ${target}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      return size;
    }
    for await (const block of createReadStream(plain, { highWaterMark: COPY_BLOCK_BYTES })) await writeTo(target, block as Buffer);
    return size;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
