// Where the repository and its three programs are, for tests that run them as a user would.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(ROOT, 'bin', 'chunkserver');
export const MASTER_BIN = join(ROOT, 'bin', 'master');
export const GFS_BIN = join(ROOT, 'bin', 'gfs');
