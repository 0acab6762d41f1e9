#!/usr/bin/env node
// `npm run cluster`: a master and three chunk servers on 127.0.0.1 at distinct locations,
// data under one folder, each process's log lines prefixed with its name. Ctrl-C stops all.
//   node scripts/cluster.mjs [--dir data/cluster] [--port 5000] [--console PORT] [--metrics]
//   (--port 0: any free port; --console: the master's web console and /metrics on PORT;
//   --metrics: /metrics on every chunk server too, each on a free port, printed at start)
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(fileURLToPath(import.meta.url), '..', '..');
const SERVERS = [
  { id: 'chunk1', x: 10, y: 10 },
  { id: 'chunk2', x: 50, y: 80 },
  { id: 'chunk3', x: 90, y: 20 },
];
// After SIGTERM, how long each process gets to finish before it is killed, in ms.
const STOP_GRACE_MS = 15_000;
const LEVELS = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const HIDDEN = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'server_id', 'role']);

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: 'data/cluster' },
    port: { type: 'string', default: '5000' },
    console: { type: 'string' },
    metrics: { type: 'boolean', default: false },
  },
});
const dir = resolve(values.dir);
if (!existsSync(join(ROOT, 'dist', 'cli', 'master.js'))) {
  process.stderr.write('cluster: dist/ is missing; run `npm run build` first\n');
  process.exit(1);
}

/** A port free on 127.0.0.1 now (the chunk servers' metrics ports, and the console's under --metrics alone). */
function freePort() {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => done(port));
    });
  });
}

const consolePort = values.console ?? (values.metrics ? String(await freePort()) : undefined);
const children = new Map();
let stopping = false;

/** pino JSON -> "LEVEL msg key=value ..."; anything else as it is. */
function format(line) {
  let rec;
  try {
    rec = JSON.parse(line);
  } catch {
    return line;
  }
  if (typeof rec !== 'object' || rec === null || typeof rec.msg !== 'string') return line;
  const rest = Object.entries(rec)
    .filter(([k]) => !HIDDEN.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${(LEVELS[rec.level] ?? String(rec.level)).padEnd(5)} ${rec.msg}${rest ? ` ${rest}` : ''}`;
}

function start(name, bin, args, onLine = () => undefined) {
  const proc = spawn(process.execPath, [join(ROOT, 'bin', bin), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.set(name, proc);
  const tag = `[${name}]`.padEnd(9);
  for (const stream of [proc.stdout, proc.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      process.stdout.write(`${tag} ${format(line)}\n`);
      onLine(line);
    });
  }
  proc.on('exit', (code, signal) => {
    children.delete(name);
    if (stopping) return;
    process.stdout.write(`${tag} exited unexpectedly (${code ?? signal}); stopping the cluster\n`);
    void stopAll(1);
  });
  return proc;
}

async function stopAll(exitCode) {
  if (stopping) return;
  stopping = true;
  const exits = [...children.values()].map(
    (proc) =>
      new Promise((done) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return done();
        const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_GRACE_MS);
        proc.once('exit', () => {
          clearTimeout(timer);
          done();
        });
        proc.kill('SIGTERM');
      }),
  );
  await Promise.all(exits);
  process.stdout.write('cluster stopped\n');
  process.exit(exitCode);
}

process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

const masterPort = await new Promise((done) => {
  const http = consolePort === undefined ? [] : ['--http_port', consolePort];
  start('master', 'master', ['--host', '127.0.0.1', '--port', values.port, '--metadata', join(dir, 'metadata.json'), ...http], (line) => {
    const m = /"address":"[^"]*:(\d+)"[^\n]*"msg":"master listening"/.exec(line);
    if (m) done(Number(m[1]));
  });
});
const metricsPorts = [];
for (const s of SERVERS) {
  const metrics = values.metrics ? ['--metrics_port', String(await freePort())] : [];
  if (values.metrics) metricsPorts.push(`${s.id} http://127.0.0.1:${metrics[1]}/metrics`);
  start(s.id, 'chunkserver', [
    ...metrics,
    '--server_id', s.id,
    '--host', '127.0.0.1',
    '--data_dir', join(dir, 'chunks'),
    '--master', `127.0.0.1:${masterPort}`,
    '--x', String(s.x),
    '--y', String(s.y),
  ]);
}
process.stdout.write(`cluster: master on 127.0.0.1:${masterPort}, data under ${dir}; Ctrl-C stops it\n`);
if (consolePort !== undefined) process.stdout.write(`cluster: console on http://127.0.0.1:${consolePort}/ (the master's /metrics there too)\n`);
if (metricsPorts.length > 0) process.stdout.write(`cluster: chunk server metrics: ${metricsPorts.join(', ')}\n`);
