// A command as one module: its name, request shape with bounds, access class and handler
// (protocol/PROTOCOL.md, "Who may send what"). The registry (registry.ts) builds dispatch,
// validation, the streamed set and the access policy from these.
import type { Fields, Shape } from './shape.js';

/**
 * What a request needs when authentication is on:
 *   member  only a cluster member's proof
 *   write   a member's or a client's proof under client_auth = "writes" or "all"
 *   read    the same under client_auth = "all"
 */
export type Access = 'member' | 'write' | 'read';
const ACCESS: ReadonlySet<unknown> = new Set<Access>(['member', 'write', 'read']);

export type Reply = Record<string, unknown>;
export type OkReply = { status: 'ok'; [field: string]: unknown };

/** The request a command's handler gets: its shape's fields and its name. */
export type RequestOf<N extends string, S> = (S extends Shape<infer R> ? R : never) & { command: N };

export interface CommandSpec<N extends string, R, Ctx> {
  readonly name: N;
  /** A class, or one read off the raw request (a replica store is for members only). */
  readonly access: Access | ((fields: Fields) => Access);
  /** The field naming the member that sends it: its proof must be that member's. */
  readonly sender?: string;
  readonly request: Shape<R>;
  handle(request: R & { command: N }, ctx: Ctx): Promise<Reply>;
}

export interface Command<N extends string, R, Ctx> extends CommandSpec<N, R, Ctx> {
  /** Fields the connection may hand over still on disk (wire/spill.ts); the others come in memory. */
  readonly streamed: readonly string[];
  /** The request as the handler gets it, or the error its sender is answered. */
  parse(fields: Fields): R & { command: N };
}

/** Default-deny: a command without a valid access class does not load. */
export function defineCommand<N extends string, R, Ctx>(spec: CommandSpec<N, R, Ctx>): Command<N, R, Ctx> {
  if (typeof spec.access !== 'function' && !ACCESS.has(spec.access)) throw new Error(`command ${spec.name}: no access class`);
  return {
    ...spec,
    streamed: Object.entries(spec.request.rules).flatMap(([key, rule]) => (rule.streamed ? [rule.from ?? key] : [])),
    parse: (fields) => ({ command: spec.name, ...spec.request.parse(fields) }),
  };
}

