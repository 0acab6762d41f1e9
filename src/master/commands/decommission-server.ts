import { defineCommand, type OkReply, type RequestOf } from '../../commands/define.js';
import { address } from '../../commands/fields.js';
import { flag, shape } from '../../commands/shape.js';
import { DecommissionRefusedError, UnknownServerError } from '../../errors.js';
import type { ServerView } from '../replica-policy.js';
import type { MasterContext } from './context.js';

const request = shape({ address: address(), force: flag() });

/**
 * Why the other servers could never take the server's place (null: they can): too few live
 * ones for the factor, or too little free space for the copies still needed there. Servers
 * that have not told their space yet leave the space unknown, and then it is not held against it.
 */
export function refusal(target: string, servers: ReadonlyMap<string, ServerView>, factor: number, need: { bytes: number }): string | null {
  const others = [...servers.values()].filter((s) => s.address !== target && s.state === 'live');
  if (others.length < factor) return `${others.length} other live server${others.length === 1 ? '' : 's'} cannot hold replication_factor ${factor}`;
  if (others.every((s) => s.total > 0)) {
    const free = others.reduce((sum, s) => sum + Math.max(0, s.total - s.used), 0);
    if (free < need.bytes) return `its chunks need ${need.bytes} bytes elsewhere, the other live servers have ${free} free`;
  }
  return null;
}

/**
 * decommission_server: the server's chunks are copied elsewhere; it stays listed as a holder
 * of a chunk until that chunk has replication_factor current copies on other servers. The
 * reply comes once the decommission is recorded in the master's store: a restart resumes it.
 * One that could never finish is refused unless `force` (a dying disk may be worth draining
 * as far as it goes); one already under way is answered with its progress.
 */
async function decommissionServer(req: RequestOf<'decommission_server', typeof request>, ctx: MasterContext): Promise<OkReply> {
  if (!ctx.nodes.server(req.address) && ctx.map.chunksOn(req.address).size === 0) throw new UnknownServerError();
  const servers = ctx.repairer.servers();
  if (!req.force && ctx.repairer.serverState(req.address) !== 'decommissioning') {
    const why = refusal(req.address, servers, ctx.replicationFactor, ctx.repairer.needed(req.address, servers));
    if (why !== null) throw new DecommissionRefusedError(why);
  }
  await ctx.repairer.decommission(req.address);
  const progress = ctx.repairer.decommissionProgress(req.address, servers);
  ctx.log.info({ address: req.address, chunks_left: progress.chunks_left, force: req.force }, 'decommissioning chunk server');
  return { status: 'ok', address: req.address, state: 'decommissioning', ...progress };
}

export default defineCommand({ name: 'decommission_server', access: 'write', request, handle: decommissionServer });
