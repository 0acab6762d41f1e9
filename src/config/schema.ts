// One row per config key: where it lives in the TOML file, the flag that overrides it, its
// default, its check and its documentation. The resolvers, the known-key list,
// chunk_server.toml's comments and docs/operating.md's table are all read off these rows.
import { table, type Check, type Table } from './checks.js';

export type Program = 'chunkserver' | 'master' | 'gfs';
export type Section = 'master' | 'chunk_server' | 'security' | 'client';

export interface Flag {
  /** Without the dashes, as commander names the option's value: `space`, `log_level`. */
  readonly name: string;
  /** `<mib>`: the value's placeholder in --help. */
  readonly arg: string;
  readonly help: string;
}

export interface Row<V> {
  readonly section: Section;
  readonly key: string;
  /** null: unset unless the file or a flag sets it (the program decides what unset means). */
  readonly default: V;
  readonly check: Check<NonNullable<V>>;
  /** The flag of each program that overrides this key. */
  readonly flags?: Partial<Record<Program, Flag>>;
  /** chunk_server.toml's comment above the key, one string per line. */
  readonly doc: readonly string[];
  /** docs/operating.md's "meaning" column. */
  readonly summary: string;
  /** docs/operating.md's "default" column where the value alone would not say it (an unset key, a derived default). */
  readonly shown?: string;
  /** TOML value shown, commented out, in chunk_server.toml for a key unset by default. */
  readonly example?: string;
}

/** Lets a row's value type be inferred from its default and check. */
export function row<V>(r: Row<V>): Row<V> {
  return r;
}

export type Rows = Readonly<Record<string, Row<unknown>>>;

/** The values of a set of rows, under the rows' own names. */
export type Settings<R extends Rows> = { -readonly [K in keyof R]: R[K] extends Row<infer V> ? V : never };

/** Where a program reads its values: the parsed file and its command line. */
export interface Source {
  /** None: no flags are read. */
  readonly program?: Program;
  readonly file: Table;
  readonly flags?: Readonly<Record<string, unknown>>;
}

/** How the message of a failed check names the value: the flag if the program has one, else the key. */
export function where(row: Row<unknown>, program?: Program): string {
  const flag = program === undefined ? undefined : row.flags?.[program];
  return flag ? `--${flag.name}` : `[${row.section}] ${row.key}`;
}

/**
 * The flag's value, else the file's, else `fallback`, else the default; checked (by `check`
 * where a program asks more of the key than the row does). null stays null: unset.
 */
export function read<V>(row: Row<V>, src: Source, opts: { fallback?: unknown; check?: Check<NonNullable<V>> } = {}): V {
  const flag = src.program === undefined ? undefined : row.flags?.[src.program];
  const v = (flag ? src.flags?.[flag.name] : undefined) ?? table(src.file, row.section)[row.key] ?? opts.fallback ?? row.default;
  return v === null ? (null as V) : (opts.check ?? row.check)(where(row, src.program), v);
}

export function readAll<R extends Rows>(rows: R, src: Source): Settings<R> {
  return Object.fromEntries(Object.entries(rows).map(([name, row]) => [name, read(row, src)])) as Settings<R>;
}

export function defaultsOf<R extends Rows>(rows: R): Settings<R> {
  return Object.fromEntries(Object.entries(rows).map(([name, row]) => [name, row.default])) as Settings<R>;
}

/** commander's `.option(flags, help)` arguments for the row's flag in `program`. */
export function flagOption(row: Row<unknown>, program: Program): [string, string] {
  const flag = row.flags?.[program];
  if (!flag) throw new Error(`[${row.section}] ${row.key} has no flag in ${program}`);
  return [`--${flag.name} ${flag.arg}`, flag.help];
}
