// Scratch directories, each removed at its test's teardown.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What the support functions need of a tap test: a place to register cleanup. */
export type Teardown = { teardown(fn: () => unknown): void };

export async function tempDir(t: Teardown, prefix = 'chunkserver-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}
