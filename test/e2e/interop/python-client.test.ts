import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { charge } from '../../../src/storage/index.js';
import { MIB } from '../../support/data.js';
import { startServer } from '../../support/in-process.js';
import { ROOT } from '../../support/paths.js';

const run = promisify(execFile);

t.test('a Python client with the reference framing stores and retrieves byte-exact', async (t) => {
  const server = await startServer(t, { spaceMb: 64 });
  const { stdout } = await run('/usr/bin/python3', [join(ROOT, 'test', 'support', 'python', 'reference_client.py'), String(server.port)], { timeout: 60_000 });
  const results = JSON.parse(stdout);
  t.same(results, {
    '0': 'ok',
    '1': 'ok',
    [String(MIB)]: 'ok',
    [String(5 * MIB + 3)]: 'ok',
    check_space: { status: 'error', message: 'insufficient_space', available_space: 64 * MIB - (charge(0) + charge(1) + charge(MIB) + charge(5 * MIB + 3)) },
    missing: { status: 'error', message: 'chunk_not_found' },
    delete: { status: 'ok' },
  });
  t.equal(server.store.chunkCount, 3, 'the empty chunk was deleted by the client');
});
