import { defineCommand, type OkReply, type RequestOf } from '../../commands/define.js';
import { shape } from '../../commands/shape.js';
import { roleOf } from '../etcd/role.js';
import type { MasterContext } from './context.js';

const request = shape({});

/**
 * master_status: this master's role (`single` without etcd, else `leader` or `standby`),
 * the leader it knows and since when it leads. The one command a standby answers itself
 * (protocol/PROTOCOL.md, "master_status"), so `gfs masters` can ask each master.
 */
async function masterStatus(_req: RequestOf<'master_status', typeof request>, ctx: MasterContext): Promise<OkReply> {
  return { status: 'ok', ...roleOf(ctx.leadership) };
}

export default defineCommand({ name: 'master_status', access: 'read', request, handle: masterStatus });
