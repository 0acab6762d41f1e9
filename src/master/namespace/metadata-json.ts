import { readFile, rename, writeFile } from 'node:fs/promises';
import type { FileMetadata } from '../../wire/file-metadata.js';

// The reference master's metadata.json (path -> FileMetadata): imported on the first start,
// written by --export-metadata.

/** The file's map of files as written; null when there is no such file. */
export async function readMetadataJson(file: string): Promise<Record<string, Partial<FileMetadata>> | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`metadata file ${file} is not valid JSON (${(err as Error).message}); move it away to start empty`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`metadata file ${file} does not hold a map of files`);
  return parsed as Record<string, Partial<FileMetadata>>;
}

/** Writes the files to a temp file and renames it over `file`; returns how many were written. */
export async function writeMetadataJson(file: string, files: Iterable<{ key: unknown; value: FileMetadata }>): Promise<number> {
  const out: Record<string, FileMetadata> = {};
  let n = 0;
  for (const { key, value } of files) {
    out[key as string] = value;
    n++;
  }
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify(out, null, 2));
  await rename(temp, file);
  return n;
}
