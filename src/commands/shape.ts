// A request shape: each field's type and bound, checked once, in the order the fields are
// listed (which error a bad request gets depends on that order). A field that fails is
// answered `bad_request: <label>`, its label being the field's name unless said otherwise.
import { BadRequestError } from '../errors.js';
import { isSpilledBin, type Payload } from '../wire/payload.js';

export type Fields = Record<string, unknown>;

/** One field's rule: the value (undefined when absent) in, the request's value out, or a throw. */
export interface Field<T> {
  readonly check: (value: unknown, label: string) => T;
  /** The wire key it is read from, when the request names it differently. */
  readonly from?: string;
  /** A bin value the connection may leave on disk while it arrives (wire/spill.ts). */
  readonly streamed?: true;
}

type Rules = Record<string, Field<unknown>>;
export type Infer<R extends Rules> = { [K in keyof R]: R[K] extends Field<infer T> ? T : never };

export interface Shape<T> {
  readonly rules: Rules;
  parse(fields: Fields): T;
}

const own = (f: Fields, key: string): unknown => (Object.hasOwn(f, key) ? f[key] : undefined);

function read<R extends Rules>(rules: R, f: Fields, label: (key: string) => string): Infer<R> {
  const out: Fields = {};
  for (const [key, rule] of Object.entries(rules)) out[key] = rule.check(own(f, rule.from ?? key), label(key));
  return out as Infer<R>;
}

/** `refine` runs once every field passed: checks across fields, values derived from others. */
export function shape<R extends Rules>(rules: R): Shape<Infer<R>>;
export function shape<R extends Rules, T>(rules: R, refine: (request: Infer<R>) => T): Shape<T>;
export function shape<R extends Rules, T>(rules: R, refine?: (request: Infer<R>) => T): Shape<T | Infer<R>> {
  return {
    rules,
    parse: (f) => {
      const request = read(rules, f, (key) => key);
      return refine ? refine(request) : request;
    },
  };
}

export const isNil = (v: unknown): v is null | undefined => v === undefined || v === null;

/** Absent or nil: `fallback` (null unless given). */
export function optional<T>(field: Field<T>): Field<T | null>;
export function optional<T, D>(field: Field<T>, fallback: D): Field<T | D>;
export function optional<T, D>(field: Field<T>, fallback: D | null = null): Field<T | D | null> {
  return { ...field, check: (v, label) => (isNil(v) ? fallback : field.check(v, label)) };
}

export const fail = (label: string): never => {
  throw new BadRequestError(label);
};

/** A str of at most `maxBytes` UTF-8 bytes that `test` accepts. */
export function str({ maxBytes, test }: { maxBytes: number; test?: (s: string) => boolean }): Field<string> {
  return {
    check: (v, label) => (typeof v === 'string' && Buffer.byteLength(v) <= maxBytes && (test?.(v) ?? true) ? v : fail(label)),
  };
}

/** An integer from 0 to `max` (default the largest a JavaScript number holds exactly). */
export function uint({ max = Number.MAX_SAFE_INTEGER }: { max?: number } = {}): Field<number> {
  return { check: (v, label) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= max ? v : fail(label)) };
}

/** true or false; absent or nil: false. */
export function flag(): Field<boolean> {
  return { check: (v, label) => (isNil(v) ? false : typeof v === 'boolean' ? v : fail(label)) };
}

/** A bin of at most `maxBytes`; `streamed`: it may arrive spilled to disk. */
export function bytes(o: { maxBytes: number; streamed: true }): Field<Payload>;
export function bytes(o: { maxBytes: number }): Field<Buffer>;
export function bytes({ maxBytes, streamed }: { maxBytes: number; streamed?: true }): Field<Payload> {
  const inMemory = (v: unknown, label: string): Buffer => {
    if (!(v instanceof Uint8Array) || v.length > maxBytes) return fail(label);
    return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.length);
  };
  if (!streamed) return { check: inMemory };
  return { streamed, check: (v, label) => (isSpilledBin(v) && v.size <= maxBytes ? v : inMemory(v, label)) };
}

/** An array of at most `max` items, each checked by `item` under the array's label. */
export function list<T>(item: Field<T>, { max }: { max: number }): Field<T[]> {
  return {
    check: (v, label) => {
      if (!Array.isArray(v) || v.length > max) return fail(label);
      return v.map((e) => item.check(e, label));
    },
  };
}

export function isMap(v: unknown): v is Fields {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);
}

/** A map with these fields (others dropped); `qualified` labels them `<map> <field>`, else by their own name. */
export function record<R extends Rules>(rules: R, { qualified = false } = {}): Field<Infer<R>> {
  return {
    check: (v, label) => (isMap(v) ? read(rules, v, (key) => (qualified ? `${label} ${key}` : key)) : fail(label)),
  };
}
