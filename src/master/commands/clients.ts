import { badRequest } from '../../errors.js';
import type { OkReply } from '../../wire/messages.js';
import type { ClientHeartbeatRequest, RegisterClientRequest } from '../messages.js';
import type { MasterContext } from './context.js';

export async function registerClient(req: RegisterClientRequest, ctx: MasterContext): Promise<OkReply> {
  ctx.nodes.registerClient(req.client_id, req.location);
  ctx.log.info({ client_id: req.client_id, location: req.location }, 'client registered');
  return { status: 'ok' };
}

export async function clientHeartbeat(req: ClientHeartbeatRequest, ctx: MasterContext): Promise<OkReply> {
  if (!ctx.nodes.clientHeartbeat(req.client_id, req.location)) throw badRequest('location (unknown client)');
  return { status: 'ok' };
}
