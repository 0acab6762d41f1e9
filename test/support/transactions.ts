// What the transaction tests share: the reference's replies to the two-phase commands, and
// probes of a server's chunks and transaction log.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { call } from './frames.js';

export const OK_PREPARED = { status: 'ok', message: 'prepared' };
export const OK_COMMITTED = { status: 'ok', message: 'committed' };
export const OK_ROLLED_BACK = { status: 'ok', message: 'rolled back' };
export const NO_PREPARED = { status: 'error', message: 'No prepared data found for commit' };

/** The chunk's bytes, or the error message that came instead. */
export async function retrieve(port: number, chunk_id: string): Promise<Buffer | string> {
  const r = await call(port, { command: 'retrieve_chunk', chunk_id });
  return r.status === 'ok' ? Buffer.from(r.data) : r.message;
}

/** The lines of the transaction log in `dataDir`. */
export async function txLog(dataDir: string): Promise<Array<Record<string, any>>> {
  const text = await readFile(join(dataDir, 'transactions.log'), 'utf8');
  return text.trim().split('\n').map((line) => JSON.parse(line));
}
