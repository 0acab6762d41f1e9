import { defineCommand, type OkReply, type RequestOf } from '../../commands/define.js';
import { shape, uint } from '../../commands/shape.js';
import { InsufficientSpaceError } from '../../errors.js';
import { charge } from '../../storage/index.js';
import type { HandlerContext } from './context.js';

const request = shape({ size: uint() });

/** check_space: answers from the in-memory accounting; reserves nothing. */
async function checkSpace(req: RequestOf<'check_space', typeof request>, ctx: HandlerContext): Promise<OkReply> {
  // Asked as a chunk's size: answered as the store would charge that chunk.
  if (!ctx.store.space.fits(charge(req.size))) throw new InsufficientSpaceError(ctx.store.space.available);
  return { status: 'ok' };
}

export default defineCommand({ name: 'check_space', access: 'read', request, handle: checkSpace });
