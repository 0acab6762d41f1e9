import { defineCommand, type OkReply, type RequestOf } from '../../commands/define.js';
import { chunkId, MAX_BIN_BYTES, transactionId } from '../../commands/fields.js';
import { bytes, shape, uint } from '../../commands/shape.js';
import type { HandlerContext } from './context.js';
import { fields, prepare } from './transactions.js';

const request = shape({
  chunk_id: chunkId(),
  transaction_id: transactionId(),
  data: bytes({ maxBytes: MAX_BIN_BYTES }),
  /** Where `data` goes in the new version; at most the chunk's current size. */
  offset: uint(),
});

/** prepare_append: durably keeps the chunk with `data` written at `offset` (at most its size). */
function prepareAppend(req: RequestOf<'prepare_append', typeof request>, ctx: HandlerContext): Promise<OkReply> {
  const tx = { ...fields('append', req), offset: req.offset };
  return prepare(ctx, tx, req.data.length, () =>
    ctx.store.transactions.prepareAppend(req.chunk_id, req.transaction_id, req.data, req.offset),
  );
}

export default defineCommand({ name: 'prepare_append', access: 'write', request, handle: prepareAppend });
