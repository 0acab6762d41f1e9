import { dispatchTo } from '../dispatch.js';
import type { Command, RequestOf } from '../../wire/messages.js';
import { validators } from '../../wire/validate.js';
import { appendChunk } from './append-chunk.js';
import { checkSpace } from './check-space.js';
import type { HandlerContext } from './context.js';
import { deleteChunk } from './delete-chunk.js';
import { replicateChunk } from './replicate-chunk.js';
import { retrieveChunk } from './retrieve-chunk.js';
import { storeChunk } from './store-chunk.js';
import { commitAppend, commitChunk, prepareAppend, prepareChunk, rollbackAppend, rollbackChunk } from './transactions.js';

export type Handler<C extends Command> = (req: RequestOf<C>, ctx: HandlerContext) => Promise<Record<string, unknown>>;

export const handlers: { [C in Command]: Handler<C> } = {
  store_chunk: storeChunk,
  retrieve_chunk: retrieveChunk,
  delete_chunk: deleteChunk,
  check_space: checkSpace,
  prepare_chunk: prepareChunk,
  commit_chunk: commitChunk,
  rollback_chunk: rollbackChunk,
  append_chunk: appendChunk,
  prepare_append: prepareAppend,
  commit_append: commitAppend,
  rollback_append: rollbackAppend,
  replicate_chunk: replicateChunk,
};

export const COMMANDS = Object.keys(handlers) as Command[];

// Commands whose validators take a spilled `data` (wire/spill.ts Payload). For any other
// command, spilled values are read back into memory before validation, so it works as
// before, without the memory saving.
const TAKES_SPILLED: ReadonlySet<string> = new Set<Command>(['store_chunk']);

export function takesSpilled(command: unknown): boolean {
  return typeof command === 'string' && TAKES_SPILLED.has(command);
}

function isCommand(name: string): name is Command {
  return Object.hasOwn(handlers, name);
}

/** Decoded frame -> reply; never throws (src/dispatch.ts). */
export function dispatch(decoded: unknown, ctx: HandlerContext): Promise<Record<string, unknown>> {
  return dispatchTo(decoded, ctx, isCommand, run);
}

function run<C extends Command>(command: C, fields: Record<string, unknown>, ctx: HandlerContext): Promise<Record<string, unknown>> {
  const req = validators[command](fields);
  return (handlers[command] as Handler<C>)(req, ctx);
}
