import type { OkReply } from '../../commands/define.js';
import { chunkId, transactionId } from '../../commands/fields.js';
import { shape } from '../../commands/shape.js';
import { ConflictError } from '../../errors.js';
import type { TxKind } from '../../storage/index.js';
import type { HandlerContext } from './context.js';

// What the two-phase commands of the reference share, for whole chunks and for appends
// (prepare-chunk.ts, commit-append.ts, ...). Replies are the reference's:
// {status:'ok', message:'prepared' | 'committed' | 'rolled back'}.

/** commit_chunk, rollback_chunk, commit_append and rollback_append carry the same two ids. */
export const transactionIds = shape({ chunk_id: chunkId(), transaction_id: transactionId() });

type TxFields = { kind: TxKind; transaction_id: string; chunk_id: string };

export function fields(kind: TxKind, req: { chunk_id: string; transaction_id: string }): TxFields {
  return { kind, transaction_id: req.transaction_id, chunk_id: req.chunk_id };
}

export async function prepare(ctx: HandlerContext, tx: TxFields, dataBytes: number, run: () => Promise<{ size: number }>): Promise<OkReply> {
  ctx.txlog.info({ ...tx, data_bytes: dataBytes }, 'START');
  try {
    const { size } = await run();
    ctx.txlog.info({ ...tx, size }, 'PREPARE');
  } catch (err) {
    ctx.txlog.info({ ...tx, size: 0, reason: 'prepare_failed', error: (err as Error).message }, 'ROLLBACK');
    throw err;
  }
  return { status: 'ok', message: 'prepared' };
}

export async function commit(kind: TxKind, req: { chunk_id: string; transaction_id: string }, ctx: HandlerContext): Promise<OkReply> {
  const tx = fields(kind, req);
  const size = ctx.store.transactions.get(kind, req.chunk_id, req.transaction_id)?.size;
  try {
    const result = await ctx.store.transactions.commit(kind, req.chunk_id, req.transaction_id);
    if (!result.repeated) ctx.txlog.info({ ...tx, size: result.tx.size, replaced_bytes: result.replacedBytes, version: result.version }, 'COMMIT');
    await ctx.cluster.changed(req.chunk_id);
  } catch (err) {
    if (err instanceof ConflictError) ctx.txlog.info({ ...tx, size, reason: 'conflict' }, 'ROLLBACK');
    throw err;
  }
  return { status: 'ok', message: 'committed', version: ctx.store.versionOf(req.chunk_id) };
}

export async function rollback(kind: TxKind, req: { chunk_id: string; transaction_id: string }, ctx: HandlerContext): Promise<OkReply> {
  const result = await ctx.store.transactions.rollback(kind, req.chunk_id, req.transaction_id);
  if (result.found) ctx.txlog.info({ ...fields(kind, req), size: result.tx.size, reason: 'client' }, 'ROLLBACK');
  return { status: 'ok', message: 'rolled back' };
}
