import { defineCommand, type OkReply, type RequestOf } from '../../commands/define.js';
import { address } from '../../commands/fields.js';
import { shape } from '../../commands/shape.js';
import { UnknownServerError } from '../../errors.js';
import type { MasterContext } from './context.js';

const request = shape({ address: address() });

/**
 * decommission_server: the server's chunks are copied elsewhere; it stays listed as a holder
 * of a chunk until that chunk has replication_factor current copies on other servers. The
 * reply comes once the decommission is recorded in the master's store: a restart resumes it.
 */
async function decommissionServer(req: RequestOf<'decommission_server', typeof request>, ctx: MasterContext): Promise<OkReply> {
  if (!ctx.nodes.server(req.address) && ctx.map.chunksOn(req.address).size === 0) throw new UnknownServerError();
  await ctx.repairer.decommission(req.address);
  ctx.log.info({ address: req.address, chunks: ctx.map.chunksOn(req.address).size }, 'decommissioning chunk server');
  return { status: 'ok' };
}

export default defineCommand({ name: 'decommission_server', access: 'write', request, handle: decommissionServer });
