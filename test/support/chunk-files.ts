// Where a chunk's bytes are on disk: the file named by its id, or, once a large store wrote
// it, its tagged file `<id>~<16 hex>` (src/storage/chunks/data-names.ts). Found by name,
// without opening the server's metadata store.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const TAGGED = /^(.+)~[0-9a-f]{16}$/;

/** The chunk a data file's name belongs to (a tagged name's id, else the name itself). */
export function chunkIdOfFile(name: string): string {
  return TAGGED.exec(name)?.[1] ?? name;
}

/** The path of chunk `chunkId`'s data file in `chunkDir`; the plain name when there is none. */
export function chunkFile(chunkDir: string, chunkId: string): string {
  const names = readdirSync(chunkDir).filter((n) => n === chunkId || chunkIdOfFile(n) === chunkId);
  if (names.length > 1) throw new Error(`chunk ${chunkId} has ${names.length} data files: ${names.join(', ')}`);
  return join(chunkDir, names[0] ?? chunkId);
}
