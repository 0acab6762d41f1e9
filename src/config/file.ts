import { readFileSync } from 'node:fs';
import { parse as parseToml } from 'smol-toml';
import { ConfigError, type Table } from './checks.js';
import { unknownKeyProblem } from './known-keys.js';

/** Where the three programs look for their TOML file when none is named. */
export const DEFAULT_CONFIG = './chunk_server.toml';

/** Reads the TOML file; a missing file is fine unless the user named it. */
export function readConfigFile(path: string, explicit: boolean): Table {
  let source: string;
  try {
    source = readFileSync(path, 'utf8');
  } catch (err) {
    if (!explicit && (err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ConfigError(`cannot read config ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let parsed: Table;
  try {
    parsed = parseToml(source) as Table;
  } catch (err) {
    throw new ConfigError(`invalid TOML in ${path}: ${(err as Error).message.split('\n')[0]}`);
  }
  const problem = unknownKeyProblem(parsed);
  if (problem !== null) throw new ConfigError(`${path}: ${problem}`);
  return parsed;
}
