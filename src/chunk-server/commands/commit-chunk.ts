import { defineCommand } from '../../commands/define.js';
import type { HandlerContext } from './context.js';
import { commit, transactionIds } from './transactions.js';

export default defineCommand({ name: 'commit_chunk', access: 'write', request: transactionIds, handle: (req, ctx: HandlerContext) => commit('chunk', req, ctx) });
