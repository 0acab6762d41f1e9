import type { Logger } from 'pino';
import { errorToReply, unknownCommand } from '../errors.js';
import { readEnvelope, type Fields } from '../wire/validate.js';

/**
 * Decoded frame -> reply, for a server's command registry. Never throws: a client's mistake
 * becomes its documented error, anything unexpected is logged and answered `internal_error`
 * (or `io_error: CODE`).
 */
export async function dispatchTo<C extends string, Ctx extends { readonly log: Logger }>(
  decoded: unknown,
  ctx: Ctx,
  isCommand: (name: string) => name is C,
  run: (command: C, fields: Fields, ctx: Ctx) => Promise<Record<string, unknown>>,
): Promise<Record<string, unknown>> {
  let command: string | undefined;
  try {
    const envelope = readEnvelope(decoded);
    command = envelope.command;
    if (!isCommand(command)) throw unknownCommand(command);
    return await run(command, envelope.fields, ctx);
  } catch (err) {
    const { reply, expected } = errorToReply(err);
    if (!expected) ctx.log.error({ err, command }, 'request failed');
    else ctx.log.debug({ command, message: reply.message }, 'request refused');
    return reply;
  }
}
