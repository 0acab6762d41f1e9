import { MSG, RequestError } from '../../errors.js';
import type { TxKind } from '../../storage/index.js';
import type { OkReply, PrepareAppendRequest, PrepareChunkRequest, TransactionCommand, TransactionRequest } from '../../wire/messages.js';
import type { HandlerContext } from './context.js';

// The two-phase commands of the reference, for whole chunks and for appends. Replies are the
// reference's: {status:'ok', message:'prepared' | 'committed' | 'rolled back'}.

type TxFields = { kind: TxKind; transaction_id: string; chunk_id: string };

function fields(kind: TxKind, req: { chunk_id: string; transaction_id: string }): TxFields {
  return { kind, transaction_id: req.transaction_id, chunk_id: req.chunk_id };
}

async function prepare(ctx: HandlerContext, tx: TxFields, dataBytes: number, run: () => Promise<{ size: number }>): Promise<OkReply> {
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

/** prepare_chunk: durably keeps `data` as the next version of the chunk; reserves its space. */
export function prepareChunk(req: PrepareChunkRequest, ctx: HandlerContext): Promise<OkReply> {
  return prepare(ctx, fields('chunk', req), req.data.length, () =>
    ctx.store.transactions.prepareChunk(req.chunk_id, req.transaction_id, req.data),
  );
}

/** prepare_append: durably keeps the chunk with `data` written at `offset` (at most its size). */
export function prepareAppend(req: PrepareAppendRequest, ctx: HandlerContext): Promise<OkReply> {
  const tx = { ...fields('append', req), offset: req.offset };
  return prepare(ctx, tx, req.data.length, () =>
    ctx.store.transactions.prepareAppend(req.chunk_id, req.transaction_id, req.data, req.offset),
  );
}

async function commit(kind: TxKind, req: { chunk_id: string; transaction_id: string }, ctx: HandlerContext): Promise<OkReply> {
  const tx = fields(kind, req);
  const size = ctx.store.transactions.get(kind, req.chunk_id, req.transaction_id)?.size;
  try {
    const result = await ctx.store.transactions.commit(kind, req.chunk_id, req.transaction_id);
    if (!result.repeated) ctx.txlog.info({ ...tx, size: result.tx.size, replaced_bytes: result.replacedBytes, version: result.version }, 'COMMIT');
    await ctx.cluster.changed(req.chunk_id);
  } catch (err) {
    if (err instanceof RequestError && err.message === MSG.conflict) ctx.txlog.info({ ...tx, size, reason: 'conflict' }, 'ROLLBACK');
    throw err;
  }
  return { status: 'ok', message: 'committed', version: ctx.store.versionOf(req.chunk_id) };
}

async function rollback(kind: TxKind, req: { chunk_id: string; transaction_id: string }, ctx: HandlerContext): Promise<OkReply> {
  const result = await ctx.store.transactions.rollback(kind, req.chunk_id, req.transaction_id);
  if (result.found) ctx.txlog.info({ ...fields(kind, req), size: result.tx.size, reason: 'client' }, 'ROLLBACK');
  return { status: 'ok', message: 'rolled back' };
}

type TxHandler<C extends TransactionCommand> = (req: TransactionRequest<C>, ctx: HandlerContext) => Promise<OkReply>;

export const commitChunk: TxHandler<'commit_chunk'> = (req, ctx) => commit('chunk', req, ctx);
export const commitAppend: TxHandler<'commit_append'> = (req, ctx) => commit('append', req, ctx);
export const rollbackChunk: TxHandler<'rollback_chunk'> = (req, ctx) => rollback('chunk', req, ctx);
export const rollbackAppend: TxHandler<'rollback_append'> = (req, ctx) => rollback('append', req, ctx);
