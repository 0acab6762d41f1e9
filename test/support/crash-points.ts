import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Test } from 'tap';
import { bytes } from './data.js';
import { call, Client } from './frames.js';
import { spawnServer, type ChildServer } from './processes.js';
import { tempDir } from './temp.js';

// Shared by test/storage/crash-points.test.ts and crash-redo.test.ts. A real server process
// is killed (SIGKILL, from inside, CHUNKSERVER_CRASH_AT) at each named
// step of store, append, prepare, commit and delete, then
// started again: the chunk holds the old version or the new one, whole, and the file on
// disk holds exactly the committed bytes.
export type T = Test;

export const ARGS = ['--server_id', 'cp', '--data_dir', 'data', '--no_master', '--port', '0'];

export async function start(t: T, dir: string, crashAt?: string): Promise<ChildServer> {
  if (crashAt) process.env.CHUNKSERVER_CRASH_AT = crashAt;
  try {
    return await spawnServer(t, ARGS, dir);
  } finally {
    delete process.env.CHUNKSERVER_CRASH_AT;
  }
}

export async function stop(s: ChildServer): Promise<void> {
  s.proc.kill('SIGKILL');
  await s.exited;
}

/** Sends `req` to a server armed to die on it: the reply never comes, the process dies by SIGKILL. */
export async function dies(t: T, s: ChildServer, req: object): Promise<void> {
  const c = await Client.connect(s.port, t);
  c.send(req);
  t.equal(await s.exited, 'SIGKILL', `died at the crash point (${(req as { command: string }).command})`);
  c.close();
}

export async function retrieve(port: number, id: string): Promise<{ data: Buffer | null; version?: number }> {
  const r = await call(port, { command: 'retrieve_chunk', chunk_id: id });
  return r.status === 'ok' ? { data: Buffer.from(r.data), version: r.version } : { data: null };
}

export const OLD = bytes(70_000, 11);
export const EXTRA = bytes(5_000, 12);
/** Larger than the log's records (a quarter of wal_max_kb = 128): flushed on its own, no log. */
export const BIG_EXTRA = bytes(40_000, 15);
export const NEW = bytes(40_000, 14);
/** Larger than wal_store_max_kb (64): a store of it is flushed the whole-file way, not logged. */
export const BIG_NEW = bytes(100_000, 16);

export interface Case {
  point: string;
  /** What is sent to the armed server (after `prepare`, if any). */
  fatal: object;
  prepare?: object;
  /** The bytes the chunk may hold afterwards: [old, new] (null: absent). */
  outcomes: Array<Buffer | null>;
  /** Must the new one be there (the step was after the point of no return)? */
  mustBeNew?: boolean;
}

export const cases: Case[] = [
  ...['store.data-synced', 'store.renamed', 'store.committed'].map((point) => ({
    point,
    fatal: { command: 'store_chunk', chunk_id: 'c', data: BIG_NEW },
    outcomes: [OLD, BIG_NEW],
  })),
  // Small appends go through the write-ahead log: durable (and so surely there after a
  // restart) once the log is synced.
  ...['append.written', 'wal.written', 'wal.synced', 'append.committed'].map((point) => ({
    point,
    fatal: { command: 'append_chunk', chunk_id: 'c', data: EXTRA },
    outcomes: [OLD, Buffer.concat([OLD, EXTRA])],
    mustBeNew: point === 'wal.synced' || point === 'append.committed',
  })),
  {
    point: 'append.synced',
    fatal: { command: 'append_chunk', chunk_id: 'c', data: BIG_EXTRA },
    outcomes: [OLD, Buffer.concat([OLD, BIG_EXTRA])],
  },
  {
    point: 'commit.installed',
    prepare: { command: 'prepare_chunk', chunk_id: 'c', transaction_id: 'tx', data: NEW },
    fatal: { command: 'commit_chunk', chunk_id: 'c', transaction_id: 'tx' },
    outcomes: [NEW],
  },
  { point: 'prepare.data-synced', fatal: { command: 'prepare_chunk', chunk_id: 'c', transaction_id: 'tx', data: NEW }, outcomes: [OLD] },
  { point: 'delete.unlinked', fatal: { command: 'delete_chunk', chunk_id: 'c' }, outcomes: [null] },
];

type Tap = typeof import('tap').default;

export function crashCases(t: Tap, which: (c: Case) => boolean): void {
  for (const c of cases.filter(which)) {
  t.test(`kill -9 at ${c.point}`, async (t) => {
    const dir = await tempDir(t);
    const first = await start(t, dir);
    t.match(await call(first.port, { command: 'store_chunk', chunk_id: 'c', data: OLD }), { status: 'ok', version: 1 });
    if (c.prepare) t.match(await call(first.port, c.prepare), { status: 'ok', message: 'prepared' });
    await stop(first);

    const armed = await start(t, dir, c.point);
    await dies(t, armed, c.fatal);

    const again = await start(t, dir);
    const got = await retrieve(again.port, 'c');
    const which = c.outcomes.findIndex((o) => (o === null ? got.data === null : got.data !== null && got.data.equals(o)));
    t.ok(which >= 0, `the chunk is one of the ${c.outcomes.length} allowed versions, whole`);
    if (c.mustBeNew) t.equal(which, c.outcomes.length - 1, 'the committed change is there');
    if (got.data) {
      t.equal((await stat(join(dir, 'data', 'cp', 'c'))).size, got.data.length, 'the file holds exactly the committed bytes');
      t.equal(got.version, got.data.equals(OLD) ? 1 : 2, 'version: old 1, new 2');
    }
    if (c.fatal && (c.fatal as { command: string }).command === 'commit_append') {
      t.match(await call(again.port, c.fatal), { status: 'ok', message: 'committed' }, 'the commit, repeated, is committed');
    }
    await stop(again);
  });
}
}
