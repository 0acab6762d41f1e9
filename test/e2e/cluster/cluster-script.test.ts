import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { freePort } from '../../support/configs.js';
import { ROOT } from '../../support/paths.js';
import { stopChild } from '../../support/processes.js';
import { tempDir } from '../../support/temp.js';
import { waitFor } from '../../support/waits.js';

t.test('npm run cluster: a master and three chunk servers, prefixed logs, all stopped on Ctrl-C', async (t) => {
  const dir = await tempDir(t);
  const proc = spawn(process.execPath, [join(ROOT, 'scripts', 'cluster.mjs'), '--dir', dir, '--port', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (c) => (out += c));
  proc.stderr.on('data', (c) => (out += c));
  const exited = new Promise<number | string>((res) => proc.once('exit', (code, signal) => res(code ?? signal ?? -1)));
  t.teardown(() => stopChild(proc, exited));

  const registered = (): string[] => out.split('\n').filter((l) => / registered with master /.test(l));
  await waitFor('three registrations', async () => (registered().length === 3 ? true : undefined));
  t.same(registered().map((l) => l.slice(0, 9).trim()).sort(), ['[chunk1]', '[chunk2]', '[chunk3]'], 'each line names its process');
  t.match(out, /\[master\] +INFO +chunk server registered .*location=\[50,80\]/);

  proc.kill('SIGINT');
  t.equal(await Promise.race([exited, new Promise((r) => setTimeout(() => r('hung'), 20_000))]), 0);
  for (const name of ['master', 'chunk1', 'chunk2', 'chunk3']) t.match(out, new RegExp(`\\[${name}\\] +INFO +stopped`), `${name} stopped`);
  t.match(out, /cluster stopped\n$/);
  for (const id of ['chunk1', 'chunk2', 'chunk3']) t.ok(existsSync(join(dir, 'chunks', id)), `${id} data under the cluster folder`);
  t.ok(existsSync(join(dir, 'namespace', 'data.mdb')), 'master namespace (lmdb, next to the metadata file) under the cluster folder');
});

t.test('npm run cluster -- --console PORT --metrics: the console and every /metrics answer', async (t) => {
  const dir = await tempDir(t);
  const web = await freePort();
  const proc = spawn(process.execPath, [join(ROOT, 'scripts', 'cluster.mjs'), '--dir', dir, '--port', '0', '--console', String(web), '--metrics'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (c) => (out += c));
  proc.stderr.on('data', (c) => (out += c));
  const exited = new Promise<number | string>((res) => proc.once('exit', (code, signal) => res(code ?? signal ?? -1)));
  t.teardown(() => stopChild(proc, exited));

  await waitFor('three registrations', async () => (out.split('\n').filter((l) => / registered with master /.test(l)).length === 3 ? true : undefined));
  t.match(out, `cluster: console on http://127.0.0.1:${web}/`);
  const page = await waitFor('the console page', async () => {
    const r = await fetch(`http://127.0.0.1:${web}/`).catch(() => null);
    return r?.ok ? r.text() : undefined;
  });
  t.match(page, /<html/i, 'the console page is served');
  const urls = [...out.matchAll(/chunk\d (http:\/\/127\.0\.0\.1:\d+\/metrics)/g)].map((m) => m[1]!);
  t.equal(urls.length, 3, 'one metrics address per chunk server is printed');
  for (const url of [`http://127.0.0.1:${web}/metrics`, ...urls]) {
    const text = await waitFor(url, async () => {
      const r = await fetch(url).catch(() => null);
      return r?.ok ? r.text() : undefined;
    });
    t.match(text, /^# HELP /m, `${url} serves metrics`);
  }
});
