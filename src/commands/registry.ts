import type { Logger } from 'pino';
import { BadRequestError, errorToReply, UnknownCommandError } from '../errors.js';
import type { Access, Command, Reply } from './define.js';
import { isMap, type Fields } from './shape.js';

/** What the authentication guard asks of a server's commands (src/auth/guard.ts). */
export interface AccessPolicy {
  access(fields: Fields): Access;
  /** The member a request says it comes from, which its proof must name. */
  claimedSender(fields: Fields): string | undefined;
}

/** Whether a decoded request is for members only (a TLS connection without a member certificate is refused it). */
export function memberOnlyIn(policy: AccessPolicy): (decoded: unknown) => boolean {
  return (decoded) => isMap(decoded) && policy.access(decoded) === 'member';
}

type AnyCommand = Command<any, any, any>;
type ContextOf<C> = (C extends Command<any, any, infer Ctx> ? Ctx : never) & { readonly log: Logger };

export interface Registry<Ctx, C extends AnyCommand> {
  readonly names: readonly C['name'][];
  /** The request `name` makes of `fields`, as its handler would get it. */
  validate<N extends C['name']>(name: N, fields: Fields): ReturnType<Extract<C, { name: N }>['parse']>;
  /** Decoded frame -> reply. Never throws: a client's mistake becomes its documented error, anything else is logged and answered `internal_error` (or `io_error: CODE`). */
  dispatch(decoded: unknown, ctx: Ctx): Promise<Reply>;
  /** Whether a command's request may carry spilled values as they are. */
  takesSpilled(command: unknown): boolean;
  readonly policy: AccessPolicy;
}

/** Checks the frame's outer shape: a map with a string `command`. */
function readEnvelope(decoded: unknown): { command: string; fields: Fields } {
  if (!isMap(decoded)) throw new BadRequestError('body is not a map');
  if (!Object.hasOwn(decoded, 'command')) throw new BadRequestError('missing command');
  if (typeof decoded.command !== 'string') throw new BadRequestError('command is not a string');
  return { command: decoded.command, fields: decoded };
}

export function defineCommands<C extends AnyCommand>(commands: readonly C[]): Registry<ContextOf<C>, C> {
  const byName = new Map<string, C>();
  for (const c of commands) {
    if (byName.has(c.name)) throw new Error(`command ${c.name} defined twice`);
    byName.set(c.name, c);
  }
  const commandOf = (fields: Fields): C | undefined => (typeof fields.command === 'string' ? byName.get(fields.command) : undefined);
  return {
    names: commands.map((c) => c.name),
    validate: (name, fields) => byName.get(name)!.parse(fields),
    async dispatch(decoded, ctx) {
      let command: string | undefined;
      try {
        const envelope = readEnvelope(decoded);
        command = envelope.command;
        const c = byName.get(command);
        if (!c) throw new UnknownCommandError(command);
        return await c.handle(c.parse(envelope.fields), ctx);
      } catch (err) {
        const { reply, expected } = errorToReply(err);
        if (!expected) ctx.log.error({ err, command }, 'request failed');
        else ctx.log.debug({ command, message: reply.message }, 'request refused');
        return reply;
      }
    },
    takesSpilled: (command) => typeof command === 'string' && (byName.get(command)?.streamed.length ?? 0) > 0,
    policy: {
      // Unknown commands are answered unknown_command; as reads they still need a proof under client_auth = "all".
      access(fields) {
        const access = commandOf(fields)?.access ?? 'read';
        return typeof access === 'function' ? access(fields) : access;
      },
      claimedSender(fields) {
        const sender = commandOf(fields)?.sender;
        const claimed = sender === undefined ? undefined : fields[sender];
        return typeof claimed === 'string' ? claimed : undefined;
      },
    },
  };
}
