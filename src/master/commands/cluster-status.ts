import { defineCommand, type OkReply, type RequestOf } from '../../commands/define.js';
import { shape } from '../../commands/shape.js';
import type { MasterContext } from './context.js';

const request = shape({});

/** cluster_status: servers (live, dead, decommissioning), their space and chunk counts, and chunk health. Read-only. */
async function clusterStatus(_req: RequestOf<'cluster_status', typeof request>, ctx: MasterContext): Promise<OkReply> {
  return { status: 'ok', ...ctx.repairer.status() };
}

export default defineCommand({ name: 'cluster_status', access: 'read', request, handle: clusterStatus });
