import { defineCommand, type OkReply, type RequestOf } from '../../commands/define.js';
import { chunkId, filePath, MAX_BIN_BYTES, transactionId } from '../../commands/fields.js';
import { bytes, optional, shape } from '../../commands/shape.js';
import type { HandlerContext } from './context.js';
import { fields, prepare } from './transactions.js';

const request = shape({
  chunk_id: chunkId(),
  transaction_id: transactionId(),
  data: bytes({ maxBytes: MAX_BIN_BYTES }),
  file_path: optional(filePath()),
});

/** prepare_chunk: durably keeps `data` as the next version of the chunk; reserves its space. */
function prepareChunk(req: RequestOf<'prepare_chunk', typeof request>, ctx: HandlerContext): Promise<OkReply> {
  return prepare(ctx, fields('chunk', req), req.data.length, () =>
    ctx.store.transactions.prepareChunk(req.chunk_id, req.transaction_id, req.data),
  );
}

export default defineCommand({ name: 'prepare_chunk', access: 'write', request, handle: prepareChunk });
