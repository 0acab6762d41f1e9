// `npm run bench`: the chunk server against baselines measured in the same run (see
// notes/issue7.md). Every server figure goes through real sockets to a real child process.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { appendFigures } from './append-bench.js';
import { authComparison } from './auth-bench.js';
import { memoryOf, startPeer, startServer, stopChild, type Child } from './children.js';
import { MIB, now } from './measure.js';
import { pairFigures } from './pairs-bench.js';
import type { BenchRow } from './row.js';
import { rssFigures } from './rss-bench.js';
import { printTable } from './table.js';
import { throughputFigures, type BenchContext } from './throughput-bench.js';
import { tlsComparison } from './tls-bench.js';

interface Args {
  quick: boolean;
  json: string | null;
  dir: string | null;
  cpuProf: string | null;
  serverConfig: string | null;
  only: Set<string> | null;
}

function usage(message: string): never {
  process.stderr.write(`bench: ${message}\nusage: npm run bench -- [--quick] [--json FILE] [--dir DIR] [--cpu-prof DIR] [--server-config TOML] [--only 64k,128k,256k,1m,64m,append,pairs,rss,auth,tls]\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, json: null, dir: null, cpuProf: null, serverConfig: null, only: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => argv[++i] ?? usage(`${a} needs a value`);
    if (a === '--quick') args.quick = true;
    else if (a === '--json') args.json = value();
    else if (a === '--dir') args.dir = value();
    else if (a === '--cpu-prof') args.cpuProf = resolve(value());
    else if (a === '--only') args.only = new Set(value().split(','));
    else if (a === '--server-config') args.serverConfig = resolve(value());
    else usage(`unknown argument ${a}`);
  }
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  // Other work on a shared machine comes and goes, so every figure and its baseline are
  // sampled in many short alternating rounds: both see the same conditions, on average.
  const rounds = args.quick ? 2 : 8;
  const sampleMs = 300;
  const pairRounds = args.quick ? 1 : 4;
  const pairMs = args.quick ? 400 : 600;
  const wants = (group: string): boolean => args.only === null || args.only.has(group);
  const work = await mkdtemp(join(args.dir ?? tmpdir(), 'chunkserver-bench-'));
  const rows: BenchRow[] = [];
  const started = now();
  const log = (msg: string): void => void process.stderr.write(`[${((now() - started) / 1000).toFixed(1)}s] ${msg}\n`);
  const children: Child[] = [];
  const cleanup = async (): Promise<void> => {
    await Promise.all(children.map(stopChild));
    await rm(work, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));

  try {
    const peer = await startPeer();
    children.push(peer);
    const nodeArgs = args.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${args.cpuProf}`] : [];
    const serverArgs = args.serverConfig ? ['--config', args.serverConfig] : [];
    const server = await startServer(join(work, 'data'), 'bench', nodeArgs, serverArgs);
    children.push(server);
    const port = server.port;
    const c: BenchContext = { port, peerPort: peer.port, work, rounds, sampleMs, log };

    const throughput = await throughputFigures(c, wants);
    rows.push(...throughput.rows);
    if (wants('append')) rows.push(...(await appendFigures(port, work, rounds, sampleMs, log)));
    if (wants('pairs')) rows.push(...(await pairFigures(c, { server, children, pairRounds, pairMs })));
    await stopChild(peer);

    const mainMem = await memoryOf(server.proc.pid!);
    await stopChild(server);

    if (wants('rss')) rows.push(...(await rssFigures(c, { quick: args.quick, serverArgs, children, disk64: throughput.disk64 })));
    rows.push({ figure: 'peak RSS of the server over the throughput run', value: mainMem.hwm / MIB, unit: 'MiB' });

    if (wants('auth')) {
      const authChildren: Child[] = [];
      rows.push(
        ...(await authComparison({
          work,
          rounds: args.quick ? 2 : 4,
          storeMs: 1000,
          pairMs,
          start: async (dataDir, serverId, extra) => {
            const child = await startServer(dataDir, serverId, [], extra);
            children.push(child);
            authChildren.push(child);
            return child.port;
          },
          log,
        })),
      );
      await Promise.all(authChildren.map(stopChild));
    }

    if (wants('tls')) {
      const tlsChildren: Child[] = [];
      rows.push(
        ...(await tlsComparison({
          work,
          rounds: args.quick ? 2 : 4,
          // A 64 MiB store over TLS takes ~1 s on a loaded machine: 3 s gives each round a few.
          storeMs: 3000,
          pairMs,
          start: async (dataDir, serverId, extra) => {
            const child = await startServer(dataDir, serverId, [], extra);
            children.push(child);
            tlsChildren.push(child);
            return child.port;
          },
          log,
        })),
      );
      await Promise.all(tlsChildren.map(stopChild));
    }

    const total = (now() - started) / 1000;
    printTable(rows, total);
    if (args.json) {
      const report = {
        date: new Date().toISOString(),
        node: process.version,
        cpus: cpus().length,
        quick: args.quick,
        seconds: total,
        rows,
      };
      await writeFile(args.json, `${JSON.stringify(report, null, 2)}\n`);
      log(`wrote ${args.json}`);
    }
  } finally {
    await cleanup();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
