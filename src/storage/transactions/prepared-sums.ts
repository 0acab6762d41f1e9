import { open, readFile, rename, unlink } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { BufferPool } from '../../wire/buffer-pool.js';
import { identityOf, sameIdentity, sumsOfFile, type ChunkSums } from '../checksums/block-sums.js';
import { decodeSums, writeSumsFile } from '../checksums/sums-file.js';
import type { ChunkFiles } from '../chunks/files.js';
import type { NewVersion } from '../chunks/types.js';

/**
 * The v1-style sums files that go with prepared whole versions: a v1 data directory has
 * them, and commit_chunk must trust the sums it installs without reading the data again.
 */

/** Writes `data` as a new file `to.data` with its sums file `to.sums` (prepare_chunk); both fsynced. */
export async function writeNewVersion(files: ChunkFiles, to: NewVersion, data: Buffer): Promise<void> {
  const { identity, crcs } = await files.writeNew(to.data, data);
  await writeSumsFile(to.sums, { size: data.length, crcs, identity });
}

/** Start-up: a v1 prepared version's sums must name its data file; missing or foreign ones are computed. */
export async function repairPreparedSums(v: NewVersion, pool: BufferPool, log: Logger): Promise<void> {
  const handle = await open(v.data, 'r');
  try {
    const st = await handle.stat({ bigint: true });
    const decoded = await readFile(v.sums).then(decodeSums, (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    });
    if (decoded?.kind === 'ok' && sameIdentity(decoded.sums.identity, identityOf(st))) return;
    const size = Number(st.size);
    const sums: ChunkSums = { size, crcs: await sumsOfFile(handle, size, pool), identity: identityOf(st) };
    const temp = `${v.sums}.tmp`;
    await unlink(temp).catch(() => undefined);
    await writeSumsFile(temp, sums);
    await rename(temp, v.sums);
    log.debug({ data: v.data, why: decoded?.kind ?? 'missing' }, 'checksums of a prepared transaction recomputed');
  } finally {
    await handle.close();
  }
}
