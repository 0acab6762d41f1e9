// chunk_server.toml and docs/operating.md's table of keys, written from the rows (`npm run config-docs`;
// test/unit/config/docs.test.ts fails when either is stale).
import { ALL_ROWS } from './known-keys.js';
import type { Row, Section } from './schema.js';

const SECTION_ORDER: readonly Section[] = ['master', 'chunk_server', 'security', 'client'];

const TOML_HEADER = [
  '# Chunk server configuration. Keys of the Python reference keep their names; command-line',
  '# flags override what is here. Every value below is the built-in default.',
  '# Written from the rows in src/config/keys/ by `npm run config-docs`.',
];

export const KEYS_TABLE_START = '<!-- config-keys: written from src/config/keys/ by `npm run config-docs` -->';
export const KEYS_TABLE_END = '<!-- /config-keys -->';

function tomlValue(v: unknown): string {
  return typeof v === 'string' || Array.isArray(v) ? JSON.stringify(v) : String(v);
}

function tomlRow(row: Row<unknown>): string[] {
  const comment = row.doc.map((line) => `# ${line}`);
  const value = row.example === undefined ? `${row.key} = ${tomlValue(row.default)}` : `# ${row.key} = ${row.example}`;
  return [...comment, value];
}

/** The whole of chunk_server.toml. */
export function renderToml(): string {
  const lines = [...TOML_HEADER];
  for (const section of SECTION_ORDER) {
    lines.push('', `[${section}]`);
    for (const row of ALL_ROWS.filter((r) => r.section === section)) lines.push(...tomlRow(row));
  }
  return lines.join('\n') + '\n';
}

function shownDefault(row: Row<unknown>): string {
  if (row.shown !== undefined) return row.shown;
  return `\`${typeof row.default === 'string' ? row.default : tomlValue(row.default)}\``;
}

/** docs/operating.md's table of keys, its markers included. */
export function renderKeysTable(): string {
  const lines = [KEYS_TABLE_START, '| key | meaning | default |', '|---|---|---|'];
  for (const section of SECTION_ORDER) {
    for (const row of ALL_ROWS.filter((r) => r.section === section)) {
      lines.push(`| \`[${row.section}] ${row.key}\` | ${row.summary} | ${shownDefault(row)} |`);
    }
  }
  return [...lines, KEYS_TABLE_END].join('\n');
}

/** `page` with the table between the markers replaced; throws when the markers are missing. */
export function withKeysTable(readme: string): string {
  const start = readme.indexOf(KEYS_TABLE_START);
  const end = readme.indexOf(KEYS_TABLE_END);
  if (start < 0 || end < start) throw new Error(`docs/operating.md has no ${KEYS_TABLE_START} ... ${KEYS_TABLE_END} block`);
  return readme.slice(0, start) + renderKeysTable() + readme.slice(end + KEYS_TABLE_END.length);
}
