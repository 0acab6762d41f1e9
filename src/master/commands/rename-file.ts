import { defineCommand, type OkReply, type RequestOf } from '../../commands/define.js';
import { filePath, newPath } from '../../commands/fields.js';
import { shape } from '../../commands/shape.js';
import type { MasterContext } from './context.js';

// The old name may be one from before the path rule (moving it is how it gets a good one).
const request = shape({ file_path: filePath(), new_path: newPath() });

/** rename_file: a rename in the namespace, atomic; chunks and their holders stay as they are. */
async function renameFile(req: RequestOf<'rename_file', typeof request>, ctx: MasterContext): Promise<OkReply> {
  await ctx.ns.rename(req.file_path, req.new_path);
  ctx.log.info({ file_path: req.file_path, new_path: req.new_path }, 'file renamed');
  return { status: 'ok' };
}

export default defineCommand({ name: 'rename_file', access: 'write', request, handle: renameFile });
