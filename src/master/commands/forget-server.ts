import { defineCommand, type OkReply, type RequestOf } from '../../commands/define.js';
import { address } from '../../commands/fields.js';
import { shape } from '../../commands/shape.js';
import { ServerLiveError, UnknownServerError } from '../../errors.js';
import type { MasterContext } from './context.js';

const request = shape({ address: address() });

/**
 * forget_server: a dead chunk server is gone for good. The master remembers every server
 * across its restarts and lists a silent one as dead; this drops it from its store, from
 * cluster_status, the console and the metrics, and its copies from the chunk map (repair
 * then counts them missing). A live server cannot be forgotten: it would be back at its next
 * heartbeat. One that comes back later joins as a new server.
 */
async function forgetServer(req: RequestOf<'forget_server', typeof request>, ctx: MasterContext): Promise<OkReply> {
  if (ctx.nodes.isLive(req.address)) throw new ServerLiveError();
  if (!ctx.members.has(req.address) && !ctx.nodes.server(req.address) && ctx.map.chunksOn(req.address).size === 0) throw new UnknownServerError();
  await ctx.repairer.forget(req.address);
  ctx.log.info({ address: req.address }, 'chunk server forgotten');
  return { status: 'ok' };
}

export default defineCommand({ name: 'forget_server', access: 'write', request, handle: forgetServer });
