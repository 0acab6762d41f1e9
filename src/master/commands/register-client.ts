import { defineCommand, type OkReply, type RequestOf } from '../../commands/define.js';
import { clientId, location } from '../../commands/fields.js';
import { shape } from '../../commands/shape.js';
import type { MasterContext } from './context.js';

const request = shape({ client_id: clientId(), location: location() });

async function registerClient(req: RequestOf<'register_client', typeof request>, ctx: MasterContext): Promise<OkReply> {
  ctx.nodes.registerClient(req.client_id, req.location);
  ctx.log.info({ client_id: req.client_id, location: req.location }, 'client registered');
  return { status: 'ok' };
}

export default defineCommand({ name: 'register_client', access: 'write', request, handle: registerClient });
