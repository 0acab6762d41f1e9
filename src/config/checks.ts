// The checks a config value passes, each naming what it wants in the message it fails with.
// `where` is the flag the value came from, else `[section] key`: the user's own words.

import { splitAddress } from '../net/address.js';

/** A configuration problem; the command line prints its message on one line and exits with status 2. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export type Table = Record<string, unknown>;

/** Checks a value given as `where`; returns it typed, or throws ConfigError. */
export type Check<V> = (where: string, value: unknown) => V;

export function table(root: Table, name: string): Table {
  const v = root[name];
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError(`config: [${name}] must be a table`);
  return v as Table;
}

/** A number, from TOML or from a flag's text, that passes `ok`. */
export function numberCheck(ok: (n: number) => boolean, want: string): Check<number> {
  return (where, v) => {
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isFinite(n) || !ok(n)) throw new ConfigError(`${where} must be ${want}, got ${JSON.stringify(v)}`);
    return n;
  };
}

const isPort = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 65535;
const isCount = (n: number): boolean => Number.isInteger(n) && n >= 1;

export const anyNumber = numberCheck(() => true, 'a number');
export const seconds = numberCheck((n) => n > 0, 'a positive number of seconds');
export const secondsOrZero = numberCheck((n) => n >= 0, 'a number of seconds >= 0');
export const mib = numberCheck((n) => n > 0, 'a positive number of MiB');
export const messageMib = numberCheck((n) => n > 0 && n <= 4095, 'a number of MiB in (0, 4095]');
export const count = numberCheck(isCount, 'an integer >= 1');
export const weight = numberCheck((n) => n >= 0, 'a number >= 0');
export const listenPort = numberCheck(isPort, 'a port number 0-65535');
export const httpPort = numberCheck(isPort, 'a port number 0-65535 (0: off)');
/** A port to connect to: 0 ("any free one") means something only to a listener. */
export const connectPort = numberCheck((n) => isPort(n) && n > 0, 'a port number 1-65535');
export const wholeBytes = numberCheck((n) => Number.isInteger(n) && n > 0, 'a positive whole number of bytes');

export const text: Check<string> = (where, v) => {
  if (typeof v !== 'string' || v === '') throw new ConfigError(`${where} must be a non-empty string`);
  return v;
};

export const bool: Check<boolean> = (where, v) => {
  if (typeof v !== 'boolean') throw new ConfigError(`${where} must be true or false`);
  return v;
};

export function oneOf<const T extends string>(values: readonly T[]): Check<T> {
  return (where, v) => {
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
      throw new ConfigError(`${where} must be one of ${values.join(', ')}, got ${JSON.stringify(v)}`);
    }
    return v as T;
  };
}

export const logLevel = oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** `host:port`, the one place config reads an address. */
export function hostPort(where: string, v: string): { host: string; port: number } {
  const at = v.lastIndexOf(':');
  const port = at <= 0 ? null : connectPort(where, v.slice(at + 1));
  // The one address rule (net/address.ts): a bracketed IPv6 host loses its brackets.
  const parts = port === null ? null : splitAddress(v);
  if (parts === null) throw new ConfigError(`${where} must be HOST:PORT, got ${JSON.stringify(v)}`);
  return parts;
}

export const addressList: Check<string[]> = (where, v) => {
  if (!Array.isArray(v)) throw new ConfigError(`${where} must be an array of "host:port" strings`);
  return v.map((a) => {
    const s = text(where, a);
    hostPort(where, s);
    return s;
  });
};

export const nameList: Check<string[]> = (where, v) => {
  if (!Array.isArray(v)) throw new ConfigError(`${where} must be an array of names`);
  return v.map((n) => text(where, n));
};

/** etcd client URLs: `http://host:port` or `https://host:port` (etcd3 takes no other scheme). */
export const etcdEndpointList: Check<string[]> = (where, v) => {
  if (!Array.isArray(v)) throw new ConfigError(`${where} must be an array of "http://host:port" strings`);
  return v.map((e) => {
    const s = text(where, e);
    if (!/^https?:\/\/[^/]+:\d+$/.test(s)) throw new ConfigError(`${where} must be an array of "http://host:port" strings, got ${JSON.stringify(s)}`);
    return s;
  });
};
