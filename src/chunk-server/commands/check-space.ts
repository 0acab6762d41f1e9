import { InsufficientSpaceError } from '../../errors.js';
import { charge } from '../../storage/index.js';
import type { CheckSpaceRequest, OkReply } from '../../wire/messages.js';
import type { HandlerContext } from './context.js';

/** check_space: answers from the in-memory accounting; reserves nothing. */
export async function checkSpace(req: CheckSpaceRequest, ctx: HandlerContext): Promise<OkReply> {
  // Asked as a chunk's size: answered as the store would charge that chunk.
  if (!ctx.store.space.fits(charge(req.size))) throw new InsufficientSpaceError(ctx.store.space.available);
  return { status: 'ok' };
}
