// Hostile rounds (issue 14) against a real server process: extension types, announced but
// unsent sizes, stalled readers, looping chains and floods of tiny writes; after each round
// the server answers, its RSS stays bounded and its open files return to start-up's.
// Replay a failure with FUZZ_SEED=<seed printed in the test name>.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { DISK_MARGIN_BYTES } from '../../../src/storage/index.js';
import { writeToml } from '../../support/configs.js';
import { MIB } from '../../support/data.js';
import { call, Client } from '../../support/frames.js';
import { announcement, extensionFrame, int, randomBytes, SEED } from '../../support/fuzz-inputs.js';
import { spawnServer } from '../../support/processes.js';
import { tempDir } from '../../support/temp.js';
import { waitFor } from '../../support/waits.js';
import { duBytes } from '../../support/disk-use.js';

const HOSTILE_ROUNDS = 4;
// A limit the tiny writes of one round pass: 8 MiB held by the chunk the stalled readers
// ask for, about 2 MiB free.
const HOSTILE_SPACE_MB = 10;
const TINY_CHUNKS = 200;
const TINY_PREPARES = 100;
// RSS allowed after a round: start-up (~60 MiB) plus a buffer pool kept at 16 MiB, with room
// for the garbage collector's slack. Frames announcing 80 MiB must not show up here.
const RSS_LIMIT_BYTES = 320 * MIB;

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) * 1024;
}
const openFiles = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;

t.test(`fuzz: ${HOSTILE_ROUNDS} hostile rounds against a server process (FUZZ_SEED=${SEED})`, async (t) => {
  const dir = await tempDir(t, 'chunkserver-hostile-');
  const config = await writeToml(dir, 'c.toml', '[chunk_server]\nwrite_timeout_s = 1\nframe_timeout_s = 3\nbuffer_pool_mb = 16\n');
  const server = await spawnServer(t, ['--config', config, '--data_dir', 'data', '--no_master', '--space', String(HOSTILE_SPACE_MB)], dir);
  const pid = server.proc.pid!;
  const self = `127.0.0.1:${server.port}`;
  const baselineFiles = openFiles(pid);
  t.match(await call(server.port, { command: 'store_chunk', chunk_id: 'big', data: randomBytes(8 * MIB) }), { status: 'ok' });
  for (let round = 0; round < HOSTILE_ROUNDS; round++) {
    const held: Client[] = [];
    // Extension types and shared references: each one answered as undecodable, at once.
    for (let i = 0; i < 20; i++) {
      const c = await Client.connect(server.port, t);
      c.write(extensionFrame());
      const r = await c.next();
      if (r?.message !== 'bad_request: undecodable body') t.fail(`extension frame answered ${JSON.stringify(r)}`);
      c.close();
    }
    // Declared but unsent sizes, left open.
    for (let i = 0; i < 12; i++) {
      const c = await Client.connect(server.port, t);
      c.write(announcement());
      held.push(c);
    }
    // Stalled readers: retrieves never read.
    for (let i = 0; i < 4; i++) {
      const c = await Client.connect(server.port, t);
      c.socket.pause();
      c.send({ command: 'retrieve_chunk', chunk_id: 'big' });
      held.push(c);
    }
    // Looping and long chains, and chains out of the cluster: refused, nothing forwarded.
    const chains = [[self, self], [self, '127.0.0.1:9'], Array.from({ length: 9 + int(20) }, (_, i) => `127.0.0.1:${1000 + i}`)];
    for (const chain of chains) {
      const r = await call(server.port, { command: 'replicate_chunk', chunk_id: 'loop', data: randomBytes(10), replica_servers: chain, current_replica: 0 });
      if (!/^(forward_refused: |bad_request: replica_servers)/.test(String(r.message))) t.fail(`chain ${chain.length} answered ${JSON.stringify(r)}`);
    }
    // Many tiny chunks and empty prepares, more than the limit holds as the disk counts them
    // (about 2 MiB free, 8 KiB a tiny chunk, 20 KiB a prepare), then deleted and rolled back.
    const tiny = await Client.connect(server.port, t);
    const refusedForSpace = new Set(['insufficient_space', 'too_many_prepared']);
    let refused = 0;
    for (let i = 0; i < TINY_CHUNKS; i++) tiny.send({ command: 'store_chunk', chunk_id: `t${round}-${i}`, data: randomBytes(1 + int(3)) });
    for (let i = 0; i < TINY_PREPARES; i++) tiny.send({ command: 'prepare_chunk', chunk_id: `p${round}-${i}`, transaction_id: String(i), data: Buffer.alloc(0) });
    for (let i = 0; i < TINY_CHUNKS + TINY_PREPARES; i++) {
      const r = await tiny.next();
      if (r?.status === 'ok') continue;
      if (!refusedForSpace.has(String(r?.message))) t.fail(`tiny write answered ${JSON.stringify(r)}`);
      refused++;
    }
    if (refused === 0) t.fail(`round ${round}: the tiny writes never reached the limit`);
    const used = duBytes(join(dir, 'data'));
    t.ok(used <= HOSTILE_SPACE_MB * MIB + DISK_MARGIN_BYTES, `round ${round}: du of the data dir ${used} B within ${HOSTILE_SPACE_MB} MiB + ${DISK_MARGIN_BYTES} B`);
    for (let i = 0; i < TINY_CHUNKS; i++) tiny.send({ command: 'delete_chunk', chunk_id: `t${round}-${i}` });
    for (let i = 0; i < TINY_PREPARES; i++) tiny.send({ command: 'rollback_chunk', chunk_id: `p${round}-${i}`, transaction_id: String(i) });
    for (let i = 0; i < TINY_CHUNKS + TINY_PREPARES; i++) await tiny.next();
    tiny.close();

    t.same(await call(server.port, { command: 'check_space', size: 1 }), { status: 'ok' }, `round ${round}: the server answers`);
    const rss = rssBytes(pid);
    t.ok(rss < RSS_LIMIT_BYTES, `round ${round}: RSS ${Math.round(rss / MIB)} MiB under ${RSS_LIMIT_BYTES / MIB} MiB`);
    for (const c of held) c.close();
    await waitFor(`round ${round}: open files back to start-up's`, async () => (openFiles(pid) <= baselineFiles + 2 ? true : undefined), 30_000, 100);
    t.pass(`round ${round}: open files back to ${baselineFiles} (+2)`);
  }
});
