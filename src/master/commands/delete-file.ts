import { defineCommand, type OkReply, type RequestOf } from '../../commands/define.js';
import { filePath } from '../../commands/fields.js';
import { shape } from '../../commands/shape.js';
import { FileNotFoundError } from '../../errors.js';
import type { MasterContext } from './context.js';

const request = shape({ file_path: filePath() });

/** delete_file: the file leaves the namespace now; its chunks are deleted from every holder by the next repair passes. */
async function deleteFile(req: RequestOf<'delete_file', typeof request>, ctx: MasterContext): Promise<OkReply> {
  const chunks = await ctx.ns.deleteFile(req.file_path);
  if (chunks === null) throw new FileNotFoundError();
  ctx.repairer.fileDeleted(chunks);
  ctx.log.info({ file_path: req.file_path, chunks: chunks.length }, 'file deleted');
  return { status: 'ok' };
}

export default defineCommand({ name: 'delete_file', access: 'write', request, handle: deleteFile });
