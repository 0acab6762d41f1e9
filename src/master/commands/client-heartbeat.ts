import { defineCommand, type OkReply, type RequestOf } from '../../commands/define.js';
import { clientId, location } from '../../commands/fields.js';
import { optional, shape } from '../../commands/shape.js';
import { BadRequestError } from '../../errors.js';
import type { MasterContext } from './context.js';

const request = shape({ client_id: clientId(), location: optional(location()) });

async function clientHeartbeat(req: RequestOf<'client_heartbeat', typeof request>, ctx: MasterContext): Promise<OkReply> {
  if (!ctx.nodes.clientHeartbeat(req.client_id, req.location)) throw new BadRequestError('location (unknown client)');
  return { status: 'ok' };
}

export default defineCommand({ name: 'client_heartbeat', access: 'write', request, handle: clientHeartbeat });
