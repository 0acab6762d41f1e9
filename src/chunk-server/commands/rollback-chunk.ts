import { defineCommand } from '../../commands/define.js';
import type { HandlerContext } from './context.js';
import { rollback, transactionIds } from './transactions.js';

export default defineCommand({ name: 'rollback_chunk', access: 'write', request: transactionIds, handle: (req, ctx: HandlerContext) => rollback('chunk', req, ctx) });
