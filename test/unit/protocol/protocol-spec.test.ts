// protocol/PROTOCOL.md kept in step with the code: the commands it describes are the
// commands the server answers, its error messages are the ones src/errors.ts defines, its
// worked example encodes as documented, and every command has vectors.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { MSG } from '../../../src/errors.js';
import { chunkServerCommands } from '../../../src/chunk-server/commands/index.js';
import { masterCommands } from '../../../src/master/commands/index.js';
import { decodeBody, encodeFrame } from '../../../src/wire/codec.js';
import { largestFitting } from '../../../src/storage/index.js';
import { call } from '../../support/frames.js';
import { startServer } from '../../support/in-process.js';
import { ROOT } from '../../support/paths.js';

const SPEC = readFileSync(join(ROOT, 'protocol', 'PROTOCOL.md'), 'utf8');


/** The `### name` headings of one `## title` section of the spec. */
function commandsOf(title: string): string[] {
  const start = SPEC.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`PROTOCOL.md has no "## ${title}" section`);
  const rest = SPEC.slice(start + title.length + 5);
  const end = rest.search(/\n## /);
  const section = end < 0 ? rest : rest.slice(0, end);
  return [...section.matchAll(/^### (.+)$/gm)].map((m) => m[1]!.trim());
}

const sorted = (xs: Iterable<string>): string[] => [...new Set(xs)].sort();

t.test('chunk server commands: spec and code name the same set', async (t) => {
  const spec = commandsOf('Chunk server commands');
  t.equal(new Set(spec).size, spec.length, 'no command described twice');
  for (const name of spec) t.match(name, /^[a-z_]+$/, `heading "${name}" is a bare command name`);
  t.same(sorted(spec), sorted(chunkServerCommands.names), 'spec and registry name the same commands');
  t.same(
    chunkServerCommands.names.filter((c) => !spec.includes(c)),
    [],
    'every implemented command is described',
  );
});

t.test('the running server answers every command the spec describes', async (t) => {
  const server = await startServer(t);
  for (const command of commandsOf('Chunk server commands')) {
    const reply = await call(server.port, { command });
    t.not(reply.message, `unknown_command: ${command}`, command);
  }
});

t.test('master commands: spec and the master registry name the same set', async (t) => {
  const spec = commandsOf('Master commands');
  t.equal(new Set(spec).size, spec.length, 'no command described twice');
  t.same(sorted(spec), sorted(masterCommands.names));
});

t.test('every error message of src/errors.ts is in the spec', async (t) => {
  for (const message of Object.values(MSG)) t.ok(SPEC.includes(`\`${message}\``), message);
  for (const prefix of ['bad_request: <field>', 'bad_request: body is not a map', 'bad_request: missing command',
    'bad_request: command is not a string', 'bad_request: undecodable body', 'unknown_command: <name>',
    'io_error: <ERRNO>', 'bad_request: frame too large: <N> bytes,']) {
    t.ok(SPEC.includes(prefix), prefix);
  }
});

/** The ```hex blocks of the worked example, as bytes (text after '#' is commentary). */
function hexBlocks(): Buffer[] {
  const start = SPEC.indexOf('\n## Worked example\n');
  const section = SPEC.slice(start, SPEC.indexOf('\n## ', start + 5));
  return [...section.matchAll(/```hex\n([\s\S]*?)```/g)].map((m) =>
    Buffer.from(
      m[1]!
        .split('\n')
        .map((line) => line.split('#')[0]!.replace(/\s+/g, ''))
        .join(''),
      'hex',
    ),
  );
}

t.test('the worked example is what the codec produces', async (t) => {
  const blocks = hexBlocks();
  const values = [
    { command: 'check_space', size: 1048576 },
    { status: 'ok' },
    { status: 'error', message: 'insufficient_space', available_space: 524288 },
  ];
  t.equal(blocks.length, values.length);
  values.forEach((value, i) => {
    const frame = Buffer.concat(encodeFrame(value) as Buffer[]);
    t.equal(blocks[i]!.toString('hex'), frame.toString('hex'), `example ${i + 1}`);
    t.same(decodeBody(blocks[i]!.subarray(4)), value);
  });
});

t.test('the example reply is what a real server sends', async (t) => {
  const server = await startServer(t, { spaceMb: 0.5 });
  t.same(await call(server.port, { command: 'check_space', size: 1048576 }), {
    status: 'error',
    message: 'insufficient_space',
    available_space: 524288,
  });
  // A chunk is charged its blocks plus one (src/storage/space/charges.ts): 524 288 bytes no longer fit in 0.5 MiB.
  t.same(await call(server.port, { command: 'check_space', size: largestFitting(524288) }), { status: 'ok' });
  t.match(await call(server.port, { command: 'check_space', size: 524288 }), { status: 'error', message: 'insufficient_space', available_space: 524288 });
});

t.test('every command has request and reply vectors', async (t) => {
  const dir = join(ROOT, 'protocol', 'vectors');
  const cases = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .flatMap((f) => (JSON.parse(readFileSync(join(dir, f), 'utf8')) as { cases: Array<{ command?: string; direction?: string }> }).cases);
  const noReply = ['register_chunk_server', 'heartbeat', 'client_heartbeat'];
  for (const command of [...commandsOf('Chunk server commands'), ...commandsOf('Master commands')]) {
    t.ok(cases.some((c) => c.command === command && c.direction === 'request'), `${command} request`);
    if (!noReply.includes(command)) t.ok(cases.some((c) => c.command === command && c.direction === 'reply'), `${command} reply`);
  }
  for (const command of noReply) t.match(SPEC, new RegExp(`### ${command}\\n[^#]*?\\*No reply in the reference\\*`), `${command} says the reference sends no reply`);
});
