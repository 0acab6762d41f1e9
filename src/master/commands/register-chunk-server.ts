import { defineCommand, type OkReply, type RequestOf } from '../../commands/define.js';
import { address, location } from '../../commands/fields.js';
import { optional, shape } from '../../commands/shape.js';
import type { MasterContext } from './context.js';

const request = shape({
  address: address(),
  /** The reference chunk server sends none; such a server sits at (0, 0). */
  location: optional(location()),
});

async function registerChunkServer(req: RequestOf<'register_chunk_server', typeof request>, ctx: MasterContext): Promise<OkReply> {
  const isNew = ctx.nodes.registerServer(req.address, req.location);
  if (isNew) {
    // Whatever it held before it was gone may have changed: only a full report counts.
    ctx.map.unreported(req.address);
    ctx.log.info({ address: req.address, location: req.location }, 'chunk server registered');
  }
  await ctx.members.saw(ctx.nodes.server(req.address)!);
  return { status: 'ok' };
}

// The reference chunk server reads no reply and closes at once; the `ok` is for servers that wait for one.
export default defineCommand({ name: 'register_chunk_server', access: 'member', sender: 'address', request, handle: registerChunkServer });
