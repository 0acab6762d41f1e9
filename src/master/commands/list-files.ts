import { defineCommand, type OkReply, type RequestOf } from '../../commands/define.js';
import { shape } from '../../commands/shape.js';
import type { MasterContext } from './context.js';

const request = shape({});

async function listFiles(_req: RequestOf<'list_files', typeof request>, ctx: MasterContext): Promise<OkReply> {
  return { status: 'ok', files: ctx.ns.list() };
}

export default defineCommand({ name: 'list_files', access: 'read', request, handle: listFiles });
