// The progress bar: drawn on a terminal (a pseudo-terminal from script(1), bsdutils), absent
// when stderr is a pipe, silenced by --quiet.
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { startCluster } from '../../support/cluster.js';
import { bytes } from '../../support/data.js';
import { GFS_BIN } from '../../support/paths.js';

/** Runs `gfs args` with a terminal for stdin, stdout and stderr; resolves with all it drew. */
function onTerminal(args: string[], cwd: string): Promise<{ code: number | string; screen: string }> {
  const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, GFS_BIN, ...args].map(quote).join(' ');
  return new Promise((resolve) => {
    // -e: script exits with the command's status; the transcript goes to /dev/null, the screen to our pipe.
    const proc = spawn('script', ['-qec', command, '/dev/null'], { cwd, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, GFS_MASTER: '', TERM: 'xterm' } });
    let screen = '';
    proc.stdout.on('data', (c) => (screen += c));
    proc.stderr.on('data', (c) => (screen += c));
    proc.stdin.end();
    const timer = setTimeout(() => proc.kill('SIGKILL'), 120_000);
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal ?? -1, screen });
    });
  });
}

t.test('progress bar on a terminal only', async (t) => {
  const c = await startCluster(t);
  const file = join(c.base, 'f.bin');
  const data = bytes(3_000_000, 11);
  await writeFile(file, data);
  const base = ['--master', c.master.address, '--chunk_size', '500000'];

  const put = await onTerminal([...base, 'put', file, '/f.bin'], c.base);
  t.equal(put.code, 0, put.screen);
  t.match(put.screen, /put \/f\.bin \[[=-]+\] 100% \| 2\.9 MiB of 2\.9 MiB \| [\d.]+ [KMG]?i?B\/s \| ETA \d+s/, 'bar, percentage, bytes, rate and ETA');

  const get = await onTerminal([...base, 'get', '/f.bin', join(c.base, 'back.bin')], c.base);
  t.equal(get.code, 0, get.screen);
  t.match(get.screen, /get \/f\.bin \[=+\] 100% \| 2\.9 MiB of 2\.9 MiB/);

  const quiet = await onTerminal([...base, '--quiet', 'get', '/f.bin', join(c.base, 'back2.bin')], c.base);
  t.equal(quiet.code, 0);
  t.equal(quiet.screen, '', '--quiet draws nothing');

  const piped = await c.gfs([...base.slice(2), 'get', '/f.bin', join(c.base, 'back3.bin')]);
  t.equal(piped.code, 0);
  t.equal(piped.stderr, '', 'nothing when stderr is a pipe');

  const failed = await onTerminal([...base, 'get', '/missing', join(c.base, 'x')], c.base);
  t.equal(failed.code, 1);
  t.match(failed.screen, /gfs: no such file: \/missing\r?\n$/);
});
