import { MSG, RequestError } from '../../errors.js';
import type { OkReply } from '../../wire/messages.js';
import type { ClusterStatusRequest, DecommissionServerRequest } from '../messages.js';
import type { MasterContext } from './context.js';

/** cluster_status: servers (live, dead, decommissioning), their space and chunk counts, and chunk health. Read-only. */
export async function clusterStatus(_req: ClusterStatusRequest, ctx: MasterContext): Promise<OkReply> {
  return { status: 'ok', ...ctx.repairer.status() };
}

/**
 * decommission_server: the server's chunks are copied elsewhere; it stays listed as a holder
 * of a chunk until that chunk has replication_factor current copies on other servers. The
 * reply comes once the decommission is recorded in the master's store: a restart resumes it.
 */
export async function decommissionServer(req: DecommissionServerRequest, ctx: MasterContext): Promise<OkReply> {
  if (!ctx.nodes.server(req.address) && ctx.map.chunksOn(req.address).size === 0) throw new RequestError(MSG.unknownServer);
  await ctx.repairer.decommission(req.address);
  ctx.log.info({ address: req.address, chunks: ctx.map.chunksOn(req.address).size }, 'decommissioning chunk server');
  return { status: 'ok' };
}
